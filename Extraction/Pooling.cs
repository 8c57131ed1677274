using System.Numerics;
using System.Numerics.Tensors;

namespace Prh.Extraction;

/// <summary>
/// How a layer's activation becomes one vector per sample. The rules, by the activation's rank:
/// <list type="bullet">
/// <item>2-D [batch, D]: already one vector per sample, taken as it is whatever the pooling.</item>
/// <item>3-D [batch, tokens, D] (per token): <see cref="Mean"/>, <see cref="First"/> or <see cref="Last"/>;
/// <see cref="None"/>, <see cref="SpatialMean"/> and <see cref="SpatialMax"/> are refused naming the layer and its shape.</item>
/// <item>4-D [batch, C, H, W] (convolutional): pooled over the H x W positions into C values, by
/// <see cref="SpatialMax"/> when that is the pooling, by spatial mean when it is <see cref="Mean"/> (the
/// default) or <see cref="SpatialMean"/>; <see cref="None"/>, <see cref="First"/> and <see cref="Last"/>
/// are refused naming the layer and its shape. A token mask does not apply to them.</item>
/// <item>Any other rank is refused.</item>
/// </list>
/// The values are persisted (sweep specs, grain messages): new members go at the end.
/// </summary>
public enum Pooling
{
    /// <summary>No pooling: only 2-D activations are accepted.</summary>
    None,

    /// <summary>The mean over the tokens whose mask is non-zero (over all T without a mask); over H x W for a 4-D layer.</summary>
    Mean,

    /// <summary>Token 0 (a CLS-style token), whatever the mask says.</summary>
    First,

    /// <summary>Token T-1; with a mask, the last token whose mask is non-zero (right padding).</summary>
    Last,

    /// <summary>4-D layers only: each channel's mean over its H x W positions.</summary>
    SpatialMean,

    /// <summary>4-D layers only: each channel's maximum over its H x W positions.</summary>
    SpatialMax,
}

public static class PoolingNames
{
    private const string Expected = "none, mean, first, last, spatial_mean or spatial_max";

    /// <summary>"none", "mean", "first", "last", "spatial_mean" or "spatial_max": the names <see cref="Parse"/> takes.</summary>
    public static string Name(Pooling pooling) => pooling switch
    {
        Pooling.None => "none",
        Pooling.Mean => "mean",
        Pooling.First => "first",
        Pooling.Last => "last",
        Pooling.SpatialMean => "spatial_mean",
        Pooling.SpatialMax => "spatial_max",
        _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"not a pooling; expected {Expected}"),
    };

    /// <summary>One of <see cref="Name"/>'s names (any case); anything else is an error listing them.</summary>
    public static Pooling Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" => Pooling.None,
        "mean" or "avg" => Pooling.Mean,
        "first" => Pooling.First,
        "last" => Pooling.Last,
        "spatial_mean" => Pooling.SpatialMean,
        "spatial_max" => Pooling.SpatialMax,
        _ => throw new ExtractionException($"unknown pooling '{text}'; expected {Expected}"),
    };
}

/// <summary>The rules of <see cref="Pooling"/> and the per-sample arithmetic that applies them.</summary>
internal static class LayerPooling
{
    /// <summary>
    /// Why <paramref name="pooling"/> cannot make one vector per sample of a rank-<paramref name="rank"/> layer,
    /// worded to follow "layer 'L' has shape [..]"; null when it can.
    /// </summary>
    public static string? Refusal(Pooling pooling, int rank) => (rank, pooling) switch
    {
        (2, _) => null,
        (3, Pooling.None) => " (per token); choose a pooling (mean, first or last) to make one vector per sample",
        (3, Pooling.SpatialMean or Pooling.SpatialMax) =>
            $" (per token), which {PoolingNames.Name(pooling)} pooling does not apply to: [batch, tokens, D] layers take mean, first or last",
        (3, _) => null,
        (4, Pooling.None or Pooling.First or Pooling.Last) =>
            $" (convolutional: [batch, channels, height, width]), which {PoolingNames.Name(pooling)} pooling does not apply to: convolutional layers take " +
            "mean (the same as spatial_mean) or spatial_max",
        (4, _) => null,
        _ => "; features need [batch, D], [batch, tokens, D] or [batch, channels, height, width] activations",
    };

    /// <summary>The axis that becomes one sample's feature vector: C (axis 1) of a 4-D layer, the last axis otherwise.</summary>
    public static int WidthAxis(int rank) => rank == 4 ? 1 : rank - 1;

    /// <summary>
    /// Pools one sample's [tokens, width] activation into <paramref name="row"/>; <paramref name="mask"/> is its
    /// per-token mask, empty for none; <paramref name="token"/> is scratch of width doubles. False when the mask
    /// leaves no token to pool.
    /// </summary>
    public static bool Tokens<T>(ReadOnlySpan<T> activation, int tokens, int width, Pooling pooling, ReadOnlySpan<double> mask, Span<double> token, Span<double> row)
        where T : unmanaged, INumber<T>
    {
        bool masked = !mask.IsEmpty;
        switch (pooling)
        {
            case Pooling.First:
                TensorPrimitives.ConvertChecked(activation[..width], row);
                return true;
            case Pooling.Last:
            {
                int t = tokens - 1;
                while (masked && t >= 0 && mask[t] == 0) t--;
                if (t < 0) return false;
                TensorPrimitives.ConvertChecked(activation.Slice(t * width, width), row);
                return true;
            }
            default: // Mean
            {
                row.Clear();
                int used = 0;
                for (int t = 0; t < tokens; t++)
                {
                    if (masked && mask[t] == 0) continue;
                    TensorPrimitives.ConvertChecked(activation.Slice(t * width, width), token);
                    TensorPrimitives.Add(row, token, row);
                    used++;
                }
                if (used == 0) return false;
                TensorPrimitives.Divide(row, used, row);
                return true;
            }
        }
    }

    /// <summary>
    /// Pools one sample's [channels, positions] activation into <paramref name="row"/>, one value per channel:
    /// the maximum for <see cref="Pooling.SpatialMax"/>, else the mean. The sum runs in the activation's own
    /// type over chunks of <see cref="SumChunk"/> positions (vectorised, and a float chunk's rounding stays near
    /// 1e-7) and adds the chunks up in double; a ResNet's early layers are too large to convert to double first.
    /// </summary>
    public static void Spatial<T>(ReadOnlySpan<T> activation, int channels, int positions, Pooling pooling, Span<double> row)
        where T : unmanaged, INumber<T>
    {
        for (int c = 0; c < channels; c++)
        {
            var plane = activation.Slice(c * positions, positions);
            if (pooling == Pooling.SpatialMax)
            {
                row[c] = double.CreateTruncating(TensorPrimitives.Max(plane));
                continue;
            }
            double sum = 0;
            for (int at = 0; at < positions; at += SumChunk)
                sum += double.CreateTruncating(TensorPrimitives.Sum(plane.Slice(at, Math.Min(SumChunk, positions - at))));
            row[c] = sum / positions;
        }
    }

    private const int SumChunk = 512;
}
