using System.Runtime.InteropServices;
using System.Text;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Scoring;

namespace Prh.Grains.Aggregation;

/// <summary>One scored pair of a tile as its summary records it: where its layer matrix is in the tile's matrices blob, and its best pair (also for the transposed
/// matrix, for symmetric metrics).</summary>
public sealed record PairSummary(string MetricKey, string First, string Second, int FirstLayers, int SecondLayers,
    double BestScore, int[]? Best, int[]? TransposedBest, long Offset);

/// <summary>
/// A scored tile as two blobs: the summary (every pair's metric, the two models' feature hashes, its best
/// score and layer pair, and for a symmetric metric the best pair of the transposed matrix, which another
/// sweep's order may ask for) and the matrices (every pair's whole layer x layer matrix, back to back,
/// float64). Little-endian sizes; the float64 values in host order, little-endian wherever the cluster runs.
/// </summary>
public static class TileResults
{
    private const uint Magic = 0x54485250; // "PRHT"

    /// <summary>Encodes <paramref name="scores"/>[i] (metric i's pairs, block model indices) of a tile over the given models.</summary>
    public static (byte[] Summary, byte[] Matrices) Encode(IReadOnlyList<string> metricKeys, IReadOnlyList<bool> symmetric,
        IReadOnlyList<string> firsts, IReadOnlyList<string> seconds, IReadOnlyList<IReadOnlyList<TilePairScore>> scores)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("tile results are stored little-endian; this host is big-endian");
        using var summary = new MemoryStream();
        using var matrices = new MemoryStream();
        var writer = new BinaryWriter(summary, Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(scores.Sum(s => s.Count));
        long offset = 0;
        for (int m = 0; m < scores.Count; m++)
            foreach (var pair in scores[m])
            {
                var matrix = pair.Scores.Scores;
                int rows = matrix.GetLength(0), columns = matrix.GetLength(1);
                writer.Write(metricKeys[m]);
                writer.Write(firsts[pair.First]);
                writer.Write(seconds[pair.Second]);
                writer.Write(rows);
                writer.Write(columns);
                writer.Write(pair.Scores.BestScore);
                Write(writer, pair.Scores.BestIndices);
                Write(writer, symmetric[m] ? LayerScores.FromMatrix(Transpose(matrix)).BestIndices : null);
                writer.Write(offset);
                matrices.Write(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref matrix[0, 0], rows * columns)));
                offset += (long)rows * columns;
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
                    reader.ReadDouble(), Read(reader), Read(reader), reader.ReadInt64()));
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
        long start = pair.Offset * sizeof(double), length = (long)pair.FirstLayers * pair.SecondLayers * sizeof(double);
        if (pair.Offset < 0 || start + length > matrices.Length)
            throw new InvalidDataException($"the pair's matrix ({pair.FirstLayers} x {pair.SecondLayers} at value {pair.Offset}) lies outside the tile's {matrices.Length} bytes");
        var values = MemoryMarshal.Cast<byte, double>(matrices.AsSpan((int)start, (int)length));
        var rows = new double[pair.FirstLayers][];
        for (int i = 0; i < rows.Length; i++) rows[i] = values.Slice(i * pair.SecondLayers, pair.SecondLayers).ToArray();
        return rows;
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
}
