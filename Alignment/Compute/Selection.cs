namespace Prh.Alignment.Compute;

/// <summary>Order statistics without sorting.</summary>
public static class Selection
{
    /// <summary>
    /// Returns the element that would stand at index <paramref name="k"/> (0-based) if
    /// <paramref name="values"/> were sorted ascending; reorders <paramref name="values"/>.
    /// Quickselect (Hoare, 1961) with a median-of-three pivot and a three-way partition, so runs
    /// of equal values (zeros, clamped values) cost one pass. Expected O(n).
    /// </summary>
    public static double Select(Span<double> values, int k)
    {
        if ((uint)k >= (uint)values.Length)
            throw new ArgumentOutOfRangeException(nameof(k), $"index {k} outside 0..{values.Length - 1}");
        int lo = 0, hi = values.Length - 1;
        while (hi - lo > 16)
        {
            double pivot = MedianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            // Dutch national flag: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot.
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                double v = values[i];
                if (v < pivot) { values[i++] = values[lt]; values[lt++] = v; }
                else if (v > pivot) { values[i] = values[gt]; values[gt--] = v; }
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return pivot;
        }
        values.Slice(lo, hi - lo + 1).Sort();
        return values[k];
    }

    /// <summary>
    /// The element at index <paramref name="k"/> of the ascending magnitudes |x| of all values of
    /// <paramref name="blocks"/> blocks, block b read by <paramref name="read"/> (into the scratch it is
    /// given, of <paramref name="maxBlockLength"/> values, or from its own memory), without copying them:
    /// a histogram of the top 16 bits of |x| (as IEEE bits, which order non-negative doubles) finds the
    /// bucket that holds rank k, then only that bucket's values are gathered and selected (radix
    /// selection). Two passes over the blocks, each spread over the cores with a scratch per core, O(n),
    /// and memory for one bucket instead of a copy of everything. NaN must not occur (feature files refuse it).
    /// </summary>
    public static double SelectMagnitude(int blocks, int maxBlockLength, Func<int, Span<double>, ReadOnlySpan<double>> read, long k)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        var histogram = new long[1 << BucketBits];
        long total = 0;
        Parallel.For(0, blocks, options, () => (Counts: new long[1 << BucketBits], Scratch: new double[maxBlockLength], Total: 0L),
            (b, _, local) =>
            {
                var values = read(b, local.Scratch);
                foreach (double v in values) local.Counts[Bucket(v)]++;
                local.Total += values.Length;
                return local;
            },
            local =>
            {
                lock (histogram)
                {
                    for (int i = 0; i < histogram.Length; i++) histogram[i] += local.Counts[i];
                    total += local.Total;
                }
            });
        if (k < 0 || k >= total) throw new ArgumentOutOfRangeException(nameof(k), $"index {k} outside 0..{total - 1}");
        int bucket = 0;
        long before = 0;
        while (before + histogram[bucket] <= k) before += histogram[bucket++];
        if (histogram[bucket] > Array.MaxLength)
            throw new InvalidOperationException($"{histogram[bucket]} equal-magnitude candidates exceed one selection buffer");
        var candidates = new double[histogram[bucket]];
        int gathered = 0;
        Parallel.For(0, blocks, options, () => (Found: new List<double>(), Scratch: new double[maxBlockLength]),
            (b, _, local) =>
            {
                foreach (double v in read(b, local.Scratch))
                    if (Bucket(v) == bucket) local.Found.Add(Math.Abs(v));
                return local;
            },
            local =>
            {
                lock (candidates)
                {
                    local.Found.CopyTo(candidates, gathered);
                    gathered += local.Found.Count;
                }
            });
        return Select(candidates, (int)(k - before));
    }

    private const int BucketBits = 16;

    private static int Bucket(double v) => (int)((BitConverter.DoubleToUInt64Bits(v) & 0x7FFF_FFFF_FFFF_FFFFUL) >> (63 - BucketBits));

    private static double MedianOfThree(double a, double b, double c) =>
        a < b ? (b < c ? b : Math.Max(a, c)) : (a < c ? a : Math.Max(b, c));
}
