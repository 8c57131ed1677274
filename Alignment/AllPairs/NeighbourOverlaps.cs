using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// Exact neighbour-overlap counts for whole blocks of layer pairs (the mutual_knn numerators).
/// Effectively computes counts[a, b] = Σ_i |NN_a(i) ∩ NN_b(i)| for every first-block layer a and
/// second-block layer b of the given rectangles.
/// <para>This is ALGORITHMS.md's inverted index in dense form. Per sample i, a presence table
/// P[j][b] = [j ∈ NN_b(i)] (one byte lane per second-block layer) is filled from the second block's
/// lists; each first-block layer a then adds the k rows its own neighbours select,
/// acc[a][·] += Σ_t P[NN_a(i)_t][·]. That is k vector additions of |second| lanes per layer a and
/// sample, where merging sorted lists costs k steps per layer pair and sample. A byte accumulator
/// gains at most k per sample, so accumulators are added into the int counts every ⌊255 / k⌋ samples;
/// beyond k = 255 <see cref="Metrics.MutualKnn.Overlap"/>, the plain per-pair count the tests compare this
/// with, is used instead. Samples are split over the cores.</para>
/// </summary>
public static class NeighbourOverlaps
{
    public const int MaxColumns = 255;

    public static void Count(IReadOnlyList<NeighbourLists> first, IReadOnlyList<NeighbourLists> second, int columns,
        IReadOnlyList<LayerRectangle> rectangles, Span<int> counts)
    {
        int nFirst = first.Count, nSecond = second.Count;
        if (counts.Length < (long)nFirst * nSecond) throw new ArgumentException($"counts holds {counts.Length} values, {nFirst} x {nSecond} are needed");
        foreach (var r in rectangles)
            for (int a = r.First0; a < r.First1; a++) counts.Slice(a * nSecond + r.Second0, r.Second1 - r.Second0).Clear();
        if (rectangles.Count == 0) return;
        int n = first[0].SampleCount;
        if (columns > MaxColumns)
        {
            PerPair(first, second, columns, rectangles, counts);
            return;
        }

        var secondsUsed = new bool[nSecond];
        foreach (var r in rectangles) Array.Fill(secondsUsed, true, r.Second0, r.Second1 - r.Second0);
        int[] seconds = Enumerable.Range(0, nSecond).Where(b => secondsUsed[b]).ToArray();
        int stride = (nSecond + Vector<byte>.Count - 1) / Vector<byte>.Count * Vector<byte>.Count;
        int flushEvery = MaxColumns / columns;

        int workers = Math.Min(Environment.ProcessorCount, n);
        var partial = new int[workers][];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            int start = (int)((long)n * w / workers), end = (int)((long)n * (w + 1) / workers);
            var presence = new byte[(long)n * stride];
            var accumulators = new byte[(long)nFirst * stride];
            var local = new int[nFirst * nSecond];
            var offsets = new int[columns];
            for (int i = start; i < end; i++)
            {
                Mark(second, seconds, i, columns, presence, stride, 1);
                foreach (var r in rectangles)
                    for (int a = r.First0; a < r.First1; a++)
                    {
                        var neighbours = first[a].Indices(i, columns);
                        for (int t = 0; t < columns; t++) offsets[t] = neighbours[t] * stride;
                        Accumulate(presence, offsets, accumulators.AsSpan(a * stride + r.Second0, r.Second1 - r.Second0), r.Second0);
                    }
                Mark(second, seconds, i, columns, presence, stride, 0);
                if ((i - start + 1) % flushEvery == 0 || i == end - 1) Flush(accumulators, stride, local, nSecond, rectangles);
            }
            partial[w] = local;
        });
        foreach (var r in rectangles)
            for (int a = r.First0; a < r.First1; a++)
                for (int b = r.Second0; b < r.Second1; b++)
                {
                    int total = 0;
                    foreach (var local in partial) total += local[a * nSecond + b];
                    counts[a * nSecond + b] = total;
                }
    }

    /// <summary>Sets (or clears) P[j][b] for every neighbour j of sample i in each used second-block layer b.</summary>
    private static void Mark(IReadOnlyList<NeighbourLists> second, int[] seconds, int i, int columns, byte[] presence, int stride, byte value)
    {
        foreach (int b in seconds)
            foreach (int j in second[b].Indices(i, columns)) presence[j * stride + b] = value;
    }

    /// <summary>accumulator[·] += Σ_t P[row t][lane0 + ·]: each vector of lanes loaded once, all k rows added to it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate(byte[] presence, int[] rowOffsets, Span<byte> accumulator, int lane0)
    {
        ref byte p = ref MemoryMarshal.GetArrayDataReference(presence);
        ref byte acc = ref MemoryMarshal.GetReference(accumulator);
        int lanes = accumulator.Length, width = Vector<byte>.Count, v = 0;
        for (; v + width <= lanes; v += width)
        {
            var sum = Vector.LoadUnsafe(ref acc, (nuint)v);
            foreach (int offset in rowOffsets) sum += Vector.LoadUnsafe(ref p, (nuint)(offset + lane0 + v));
            sum.StoreUnsafe(ref acc, (nuint)v);
        }
        for (; v < lanes; v++)
        {
            int sum = Unsafe.Add(ref acc, v);
            foreach (int offset in rowOffsets) sum += Unsafe.Add(ref p, offset + lane0 + v);
            Unsafe.Add(ref acc, v) = (byte)sum;
        }
    }

    private static void Flush(byte[] accumulators, int stride, int[] local, int nSecond, IReadOnlyList<LayerRectangle> rectangles)
    {
        foreach (var r in rectangles)
            for (int a = r.First0; a < r.First1; a++)
            {
                var acc = accumulators.AsSpan(a * stride + r.Second0, r.Second1 - r.Second0);
                var target = local.AsSpan(a * nSecond + r.Second0, acc.Length);
                for (int b = 0; b < acc.Length; b++) target[b] += acc[b];
                acc.Clear();
            }
    }

    /// <summary>The plain path: one marker-array count per layer pair, layer pairs over the cores.</summary>
    private static void PerPair(IReadOnlyList<NeighbourLists> first, IReadOnlyList<NeighbourLists> second, int columns,
        IReadOnlyList<LayerRectangle> rectangles, Span<int> counts)
    {
        var pairs = rectangles.SelectMany(r => Enumerable.Range(r.First0, r.First1 - r.First0)
            .SelectMany(a => Enumerable.Range(r.Second0, r.Second1 - r.Second0).Select(b => (a, b)))).ToArray();
        var results = new int[pairs.Length];
        int n = first[0].SampleCount;
        Parallel.For(0, pairs.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new int[n],
            (p, _, marker) => { results[p] = checked((int)Metrics.MutualKnn.Overlap(first[pairs[p].a], second[pairs[p].b], columns, marker)); return marker; },
            _ => { });
        for (int p = 0; p < pairs.Length; p++) counts[pairs[p].a * second.Count + pairs[p].b] = results[p];
    }
}
