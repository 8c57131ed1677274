using Prh.Alignment.Compute;

namespace Prh.Alignment.Tests.Compute;

public sealed class SelectionTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(17, 3)]
    [InlineData(1000, 0)]
    [InlineData(1000, 999)]
    [InlineData(100_000, 95_000)]
    public void Select_returns_the_sorted_element(int count, int k)
    {
        var r = new Random(count + k);
        foreach (Func<double> gen in new Func<double>[] { () => r.NextDouble(), () => r.Next(0, 5), () => 1.0 })
        {
            var values = Enumerable.Range(0, count).Select(_ => gen()).ToArray();
            var sorted = values.OrderBy(v => v).ToArray();
            Assert.Equal(sorted[k], Selection.Select(values.ToArray(), k));
        }
    }

    [Fact]
    public void SelectMagnitude_matches_a_sort_across_blocks()
    {
        var r = new Random(5);
        var blocks = new List<double[]>
        {
            Enumerable.Range(0, 5000).Select(_ => (r.NextDouble() - 0.5) * 1e3).ToArray(),
            Enumerable.Range(0, 3000).Select(_ => r.Next(-3, 4) * 1.0).ToArray(), // many equal magnitudes and zeros
            new[] { double.MaxValue, -double.Epsilon, 0.0, -0.0 },
        };
        var sorted = blocks.SelectMany(b => b).Select(Math.Abs).OrderBy(v => v).ToArray();
        foreach (long k in new long[] { 0, 1, 2999, 4000, 7600, sorted.Length - 1 })
        {
            Assert.Equal(sorted[k], Selection.SelectMagnitude(blocks.Count, 0, (b, _) => blocks[b], k));
            // Read into the scratch, as streamed layers are: the same element.
            Assert.Equal(sorted[k], Selection.SelectMagnitude(blocks.Count, 5000, (b, scratch) => { blocks[b].CopyTo(scratch); return scratch[..blocks[b].Length]; }, k));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.SelectMagnitude(blocks.Count, 0, (b, _) => blocks[b], sorted.Length));
    }

    [Fact]
    public void Out_of_range_index_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.Select(new double[3], 3));
}
