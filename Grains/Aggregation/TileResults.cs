using System.Runtime.InteropServices;
using System.Text;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Contracts.Sweeps;

namespace Prh.Grains.Aggregation;

/// <summary>One scored pair of a tile as its summary records it: where its layer matrix is in the tile's matrices blob, and its best pair (also for the transposed
/// matrix, for symmetric metrics); for a calibrated pair (<see cref="MetricKey"/> the calibrated key) its nulls.</summary>
public sealed record PairSummary(string MetricKey, string First, string Second, int FirstLayers, int SecondLayers,
    double BestScore, int[]? Best, int[]? TransposedBest, long Offset, PairNulls? Nulls = null);

/// <summary>
/// A calibrated pair's permutation nulls: per layer aggregate its observed statistic and K null values (comparison units,
/// scored by <see cref="Scale"/>), stored in the matrices blob at value <see cref="Offset"/>, aggregate by aggregate.
/// </summary>
public sealed record PairNulls(ScoreScale Scale, IReadOnlyList<string> Aggregates, double[] Observed, long Offset, int Count)
{
    /// <summary>The statistics of aggregate <paramref name="aggregate"/> and its null values as scores (for a family maximum).</summary>
    public (Calibration Test, double[] NullScores) Calibrate(byte[] matrices, LayerAggregate aggregate, CalibrationOptions options)
    {
        int a = Aggregates.ToList().IndexOf(aggregate.Name);
        if (a < 0) throw new InvalidDataException($"the pair's nulls hold {string.Join(", ", Aggregates)}, not {aggregate.Name}");
        var nulls = TileResults.Values(matrices, Offset + (long)a * Count, Count);
        return (PermutationTest.Calibrate(Observed[a], nulls, options, Scale), nulls.Select(Scale.Apply).ToArray());
    }
}

/// <summary>One metric's scored pairs of a tile, and for a calibrated metric its pairs' nulls under <see cref="CalibratedKey"/>.</summary>
public sealed record TileMetricScores(string MetricKey, bool Symmetric, IReadOnlyList<TilePairScore> Scores, string? CalibratedKey = null,
    IReadOnlyList<CalibratedTilePair>? Calibrated = null);

/// <summary>
/// A scored tile as two blobs: the summary (every pair's metric, the two models' feature hashes, its best
/// score and layer pair, and for a symmetric metric the best pair of the transposed matrix, which another
/// sweep's order may ask for; a calibrated pair a second entry under its calibrated key with its observed
/// aggregates) and the matrices (every pair's whole layer x layer matrix, then a calibrated pair's null values,
/// back to back, float64). Little-endian sizes; the float64 values in host order, little-endian wherever the cluster runs.
/// </summary>
public static class TileResults
{
    private const uint Magic = 0x32485250; // "PRH2"

    /// <summary>The key a metric's pairs calibrated by <paramref name="calibration"/> are stored and found under.</summary>
    public static string CalibratedKey(MetricSpec metric, CalibrationSettings calibration) => $"{metric.Key}|calibrated {calibration.NullKey}";

    /// <summary>Encodes each metric's pairs (block model indices) of a tile over the given models.</summary>
    public static (byte[] Summary, byte[] Matrices) Encode(IReadOnlyList<string> firsts, IReadOnlyList<string> seconds, IReadOnlyList<TileMetricScores> metrics)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("tile results are stored little-endian; this host is big-endian");
        using var summary = new MemoryStream();
        using var matrices = new MemoryStream();
        var writer = new BinaryWriter(summary, Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(metrics.Sum(m => m.Scores.Count * (m.Calibrated is null ? 1 : 2)));
        long offset = 0;
        foreach (var metric in metrics)
            for (int p = 0; p < metric.Scores.Count; p++)
            {
                var pair = metric.Scores[p];
                var matrix = pair.Scores.Scores;
                int rows = matrix.GetLength(0), columns = matrix.GetLength(1);
                var transposedBest = metric.Symmetric ? LayerScores.FromMatrix(Transpose(matrix)).BestIndices : null;
                long at = offset;
                void Entry(string key)
                {
                    writer.Write(key);
                    writer.Write(firsts[pair.First]);
                    writer.Write(seconds[pair.Second]);
                    writer.Write(rows);
                    writer.Write(columns);
                    writer.Write(pair.Scores.BestScore);
                    Write(writer, pair.Scores.BestIndices);
                    Write(writer, transposedBest);
                    writer.Write(at);
                }
                Entry(metric.MetricKey);
                writer.Write(-1); // no nulls
                matrices.Write(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref matrix[0, 0], rows * columns)));
                offset += (long)rows * columns;
                if (metric.Calibrated?[p] is not { } calibrated) continue;

                Entry(metric.CalibratedKey!);
                writer.Write(calibrated.Aggregates.Count);
                writer.Write(calibrated.Scale.Divisor);
                writer.Write(calibrated.Scale.Float32);
                for (int g = 0; g < calibrated.Aggregates.Count; g++)
                {
                    writer.Write(calibrated.Aggregates[g].Name);
                    writer.Write(calibrated.ObservedAggregates[g]);
                }
                writer.Write(offset);
                writer.Write(calibrated.PermutationCount);
                foreach (var nulls in calibrated.NullAggregates) matrices.Write(MemoryMarshal.AsBytes(nulls.AsSpan()));
                offset += (long)calibrated.Aggregates.Count * calibrated.PermutationCount;
            }
        writer.Flush();
        return (summary.ToArray(), matrices.ToArray());
    }

    public static List<PairSummary> DecodeSummary(byte[] bytes)
    {
        try
        {
            var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (reader.ReadUInt32() != Magic) throw new InvalidDataException("not a tile summary");
            int count = reader.ReadInt32();
            if (count < 0) throw new InvalidDataException($"{count} pairs");
            var pairs = new List<PairSummary>(count);
            for (int p = 0; p < count; p++)
                pairs.Add(new PairSummary(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadInt32(),
                    reader.ReadDouble(), Read(reader), Read(reader), reader.ReadInt64(), ReadNulls(reader)));
            if (reader.BaseStream.Position != bytes.Length) throw new InvalidDataException("bytes after the last pair");
            return pairs;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("tile summary truncated", e);
        }
    }

    /// <summary>One pair's layer matrix out of its tile's matrices blob.</summary>
    public static double[][] Matrix(byte[] matrices, PairSummary pair)
    {
        var values = Values(matrices, pair.Offset, (long)pair.FirstLayers * pair.SecondLayers,
            $"the pair's matrix ({pair.FirstLayers} x {pair.SecondLayers} at value {pair.Offset})");
        var rows = new double[pair.FirstLayers][];
        for (int i = 0; i < rows.Length; i++) rows[i] = values.AsSpan(i * pair.SecondLayers, pair.SecondLayers).ToArray();
        return rows;
    }

    /// <summary><paramref name="count"/> float64 values at value <paramref name="offset"/> of a tile's matrices blob.</summary>
    public static double[] Values(byte[] matrices, long offset, long count, string? what = null)
    {
        long start = offset * sizeof(double), length = count * sizeof(double);
        if (offset < 0 || count < 0 || start + length > matrices.Length)
            throw new InvalidDataException($"{what ?? $"{count} values at value {offset}"} lie outside the tile's {matrices.Length} bytes");
        return MemoryMarshal.Cast<byte, double>(matrices.AsSpan((int)start, (int)length)).ToArray();
    }

    public static double[,] Transpose(double[,] matrix)
    {
        var t = new double[matrix.GetLength(1), matrix.GetLength(0)];
        for (int i = 0; i < matrix.GetLength(0); i++)
            for (int j = 0; j < matrix.GetLength(1); j++) t[j, i] = matrix[i, j];
        return t;
    }

    private static void Write(BinaryWriter writer, (int X, int Y)? best)
    {
        writer.Write(best?.X ?? -1);
        writer.Write(best?.Y ?? -1);
    }

    private static int[]? Read(BinaryReader reader)
    {
        int x = reader.ReadInt32(), y = reader.ReadInt32();
        return x < 0 ? null : [x, y];
    }

    private static PairNulls? ReadNulls(BinaryReader reader)
    {
        int aggregates = reader.ReadInt32();
        if (aggregates < 0) return null;
        var scale = new ScoreScale(reader.ReadDouble(), reader.ReadBoolean());
        var names = new string[aggregates];
        var observed = new double[aggregates];
        for (int a = 0; a < aggregates; a++) (names[a], observed[a]) = (reader.ReadString(), reader.ReadDouble());
        long offset = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count < 1) throw new InvalidDataException($"a calibrated pair with {count} null values");
        return new PairNulls(scale, names, observed, offset, count);
    }
}
