using System.Text;
using Prh.Alignment.IO;

namespace Prh.Extraction.Datasets;

/// <summary>
/// Tux Paint's stamps (Debian's tuxpaint-stamps-default, GPL-2, fetched at run time and never committed)
/// as image–caption pairs: every PNG under the stamps folder with a caption file beside it
/// (<c>name.txt</c>, English on its first line, the other languages on <c>xx.utf8=</c> lines after it),
/// the alphabet letters (<c>symbols/alphabets</c>) left out.
/// </summary>
public static class TuxpaintStamps
{
    /// <summary>The stamps folder inside the unpacked package (<c>dpkg-deb -x</c>).</summary>
    public const string StampsFolder = "usr/share/tuxpaint/stamps";

    private const string Alphabets = "symbols/alphabets/";

    /// <summary>
    /// The pairs in a fixed order, by path (ordinal); the id is the path under <paramref name="stampsRoot"/>
    /// without its extension, '/' made '.', e.g. <c>animals.birds.adelaide-rosella</c>.
    /// </summary>
    public static IReadOnlyList<(string Id, string ImagePath, string Caption)> Pairs(string stampsRoot)
    {
        if (!Directory.Exists(stampsRoot))
            throw new ExtractionException($"{stampsRoot}: no such stamps folder (scripts/deps.sh's install_tuxpaint_stamps unpacks them under .tools/tuxpaint/{StampsFolder})");
        var pairs = new List<(string, string, string)>();
        var images = Directory.EnumerateFiles(stampsRoot, "*.png", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(stampsRoot, p).Replace('\\', '/'))
            .Where(p => !p.StartsWith(Alphabets, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (string relative in images)
        {
            string image = Path.Combine(stampsRoot, relative);
            string captionFile = Path.ChangeExtension(image, ".txt");
            if (!File.Exists(captionFile) || EnglishCaption(captionFile) is not { } caption) continue;
            pairs.Add((Path.ChangeExtension(relative, null).Replace('/', '.'), image, caption));
        }
        return pairs;
    }

    /// <summary>
    /// Writes the pairs as a samples file (image paths relative to it) and returns how many it holds:
    /// all of them, or <paramref name="count"/> spread evenly over the ordered pairs so every category
    /// keeps its share.
    /// </summary>
    public static int WriteSamples(string stampsRoot, string samplesTsv, int? count = null)
    {
        var pairs = Pairs(stampsRoot);
        if (count is < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one pair");
        int n = Math.Min(count ?? pairs.Count, pairs.Count);
        string folder = Path.GetDirectoryName(Path.GetFullPath(samplesTsv))!;
        var text = new StringBuilder("# Tux Paint stamps (tuxpaint-stamps-default, GPL-2): id, image, English caption\n");
        for (int k = 0; k < n; k++)
        {
            var (id, image, caption) = pairs[(int)((long)k * pairs.Count / n)];
            text.Append(id).Append('\t').Append(Path.GetRelativePath(folder, image)).Append('\t').Append(caption).Append('\n');
        }
        Directory.CreateDirectory(folder);
        using var file = new AtomicFileWriter(samplesTsv);
        file.Stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
        file.Commit();
        return n;
    }

    /// <summary>The first line, its whitespace runs made single spaces (a tab would split the samples line); null when it is empty or a translation.</summary>
    private static string? EnglishCaption(string captionFile)
    {
        string? first = File.ReadLines(captionFile).FirstOrDefault();
        if (first is null || first.Contains(".utf8=", StringComparison.Ordinal)) return null;
        string caption = string.Join(' ', first.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return caption.Length == 0 ? null : caption;
    }
}
