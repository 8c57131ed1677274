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

    private static double MedianOfThree(double a, double b, double c) =>
        a < b ? (b < c ? b : Math.Max(a, c)) : (a < c ? a : Math.Max(b, c));
}
