using System.Text;

namespace Prh.Extraction.Datasets;

/// <summary>One line of a samples file: its id, its image (a full path) and its caption; null where the set lacks that modality.</summary>
public sealed record Sample(int Line, string Id, string? ImagePath, string? Caption);

/// <summary>
/// A samples file (SAMPLES.tsv): one sample a line, <c>id&lt;TAB&gt;image path&lt;TAB&gt;caption</c>, image
/// paths relative to the file; blank lines and lines starting with '#' are skipped. Either column may be
/// empty for a one-modality set, but then on every line. Every problem is an <see cref="ExtractionException"/>
/// naming the file, the line and the sample id.
/// </summary>
public static class SampleFile
{
    private const int Columns = 3;

    /// <summary>The samples in file order; a malformed line, an unsafe or repeated id or a missing modality is refused.</summary>
    public static IReadOnlyList<Sample> Read(string path)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        var samples = new List<Sample>();
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        int number = 0;
        foreach (string line in ReadLines(path))
        {
            number++;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            string[] fields = line.Split('\t');
            if (fields.Length != Columns)
                throw new ExtractionException(
                    $"{path}:{number}: {fields.Length} tab-separated column{(fields.Length == 1 ? "" : "s")}, expected {Columns} (id, image path, caption; leave a column " +
                    "empty for a one-modality set)");
            string id = fields[0];
            if (!SafeName.IsSafe(id))
                throw new ExtractionException($"{path}:{number}: sample id '{id}' is not a safe name ({SafeName.Rule}, starting with a letter or digit)");
            if (!lineOf.TryAdd(id, number))
                throw new ExtractionException($"{path}:{number}: sample id '{id}' appears twice (lines {lineOf[id]} and {number})");
            string? image = fields[1].Trim().Length == 0 ? null : Path.GetFullPath(Path.Combine(folder, fields[1]));
            string? caption = fields[2].Trim().Length == 0 ? null : fields[2];
            samples.Add(new Sample(number, id, image, caption));
        }
        if (samples.Count == 0)
            throw new ExtractionException($"{path}: no samples (one a line: id<TAB>image path<TAB>caption)");
        var withImage = samples.FirstOrDefault(s => s.ImagePath is not null);
        var withCaption = samples.FirstOrDefault(s => s.Caption is not null);
        if (withImage is null && withCaption is null)
            throw new ExtractionException($"{path}: no sample has an image or a caption (the second and third columns are empty on every line)");
        // A modality one sample has, every sample has: the first that lacks it is named beside the first that has it.
        foreach (var sample in samples)
        {
            if (withImage is not null && sample.ImagePath is null) throw Lacks(path, sample, "image path", withImage, "an image path");
            if (withCaption is not null && sample.Caption is null) throw Lacks(path, sample, "caption", withCaption, "a caption");
        }
        return samples;
    }

    private static ExtractionException Lacks(string path, Sample sample, string column, Sample other, string one) => new(
        $"{path}:{sample.Line}: sample '{sample.Id}' has an empty {column} but sample '{other.Id}' (line {other.Line}) has one; give every sample {one}, or none");

    /// <summary>The file's lines as strict UTF-8 (a stray byte is an error, not a silently replaced character).</summary>
    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ExtractionException($"{path}: no such samples file", e);
        }
        catch (DecoderFallbackException e)
        {
            throw new ExtractionException($"{path}: not a UTF-8 text file ({e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExtractionException($"{path}: cannot read: {e.Message}", e);
        }
    }
}
