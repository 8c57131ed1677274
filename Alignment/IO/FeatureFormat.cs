namespace Prh.Alignment.IO;

/// <summary>The two files features come in (see <see cref="FeatureFile"/>).</summary>
public enum FeatureFormat
{
    /// <summary>One N x D or N x L x D array.</summary>
    Npy,

    /// <summary>One tensor, or layers.0 ... layers.{L-1} of any widths.</summary>
    Safetensors,
}

public static class FeatureFormats
{
    /// <summary>The format a file name says (.npy or .safetensors, any case); a <see cref="TensorFileException"/> for any other.</summary>
    public static FeatureFormat OfPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".npy" => FeatureFormat.Npy,
        ".safetensors" => FeatureFormat.Safetensors,
        var ext => throw new TensorFileException(path,
            $"unsupported feature file extension '{(ext.Length == 0 ? "(none)" : ext)}'; expected .npy or .safetensors"),
    };

    /// <summary>The format of bytes whose name does not say (a stored blob): .npy by its magic, .safetensors otherwise.</summary>
    public static FeatureFormat OfContent(ReadOnlySpan<byte> content) => NpyFile.IsNpy(content) ? FeatureFormat.Npy : FeatureFormat.Safetensors;

    /// <summary>"npy" or "safetensors", as file extensions spell them.</summary>
    public static string Extension(this FeatureFormat format) => format == FeatureFormat.Npy ? "npy" : "safetensors";
}
