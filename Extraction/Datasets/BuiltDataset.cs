using System.Text;
using Prh.Alignment.IO;

namespace Prh.Extraction.Datasets;

/// <summary>
/// A samples file's model inputs, in sample order: <see cref="Pixels"/> float32 [N, 3, S, S] for a set
/// with images; <see cref="InputIds"/>, <see cref="AttentionMask"/> and <see cref="TokenTypeIds"/> int64
/// [N, T] for a set with captions; the sample ids; and the ids of the captions cut to T tokens.
/// </summary>
public sealed class BuiltDataset(
    IReadOnlyList<string> ids, Tensor? pixels, Tensor? inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, IReadOnlyList<string> cutIds)
{
    public const string PixelsName = "pixels";
    public const string InputIdsName = "input_ids";
    public const string AttentionMaskName = "attention_mask";
    public const string TokenTypeIdsName = "token_type_ids";
    public const string IdsFile = "samples.txt";

    private static readonly string[] s_tensorNames = [PixelsName, InputIdsName, AttentionMaskName, TokenTypeIdsName];

    public IReadOnlyList<string> Ids { get; } = ids;
    public Tensor? Pixels { get; } = pixels;
    public Tensor? InputIds { get; } = inputIds;
    public Tensor? AttentionMask { get; } = attentionMask;
    public Tensor? TokenTypeIds { get; } = tokenTypeIds;

    /// <summary>The samples whose captions had more than T tokens and were cut (their last token is still [SEP]).</summary>
    public IReadOnlyList<string> CutIds { get; } = cutIds;

    public int Count => Ids.Count;

    /// <summary>The tensors this set has, by name (a text model's input names), in the order above.</summary>
    public IReadOnlyList<Tensor> Tensors => new[] { Pixels, InputIds, AttentionMask, TokenTypeIds }.OfType<Tensor>().ToList();

    /// <summary>
    /// Writes <c>NAME.npy</c> for each tensor and <see cref="IdsFile"/> (one id a line) into
    /// <paramref name="directory"/>, each file whole or not at all, and removes the tensor files of a
    /// modality this set lacks, so the folder never mixes two builds. Returns the paths written.
    /// </summary>
    public IReadOnlyList<string> WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var tensor in Tensors)
        {
            string path = Path.Combine(directory, tensor.Name + ".npy");
            NpyFile.Write(path, tensor.Shape, tensor.Values, tensor.SourceType);
            written.Add(path);
        }
        string ids = Path.Combine(directory, IdsFile);
        using (var file = new AtomicFileWriter(ids))
        {
            file.Stream.Write(Encoding.UTF8.GetBytes(string.Concat(Ids.Select(id => id + "\n"))));
            file.Commit();
        }
        written.Add(ids);
        foreach (string name in s_tensorNames.Except(Tensors.Select(t => t.Name)))
            File.Delete(Path.Combine(directory, name + ".npy"));
        return written;
    }
}
