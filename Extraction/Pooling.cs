namespace Prh.Extraction;

/// <summary>
/// How a per-token activation [batch, T, D] becomes one vector per sample. A 2-D activation
/// [batch, D] is already one vector per sample and is taken as it is, whatever the mode.
/// </summary>
public enum Pooling
{
    /// <summary>No pooling: only 2-D activations are accepted; a 3-D one is an error naming the layer.</summary>
    None,

    /// <summary>The mean over the tokens whose mask is non-zero (over all T without a mask).</summary>
    Mean,

    /// <summary>Token 0 (a CLS-style token), whatever the mask says.</summary>
    First,

    /// <summary>Token T-1; with a mask, the last token whose mask is non-zero (right padding).</summary>
    Last,
}

public static class PoolingNames
{
    public static string Name(Pooling pooling) => pooling.ToString().ToLowerInvariant();

    /// <summary>"none", "mean", "first" or "last" (any case); anything else is an error listing them.</summary>
    public static Pooling Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" => Pooling.None,
        "mean" or "avg" => Pooling.Mean,
        "first" => Pooling.First,
        "last" => Pooling.Last,
        _ => throw new ExtractionException($"unknown pooling '{text}'; expected none, mean, first or last"),
    };
}
