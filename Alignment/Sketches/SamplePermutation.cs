using Prh.Alignment.Metrics;

namespace Prh.Alignment.Sketches;

/// <summary>
/// A relabelling of the N samples, as a permutation null applies it to the second argument:
/// the permuted data is <c>Y[π]</c>, so row r of the permuted data is original row <see cref="Forward"/>[r],
/// and original sample i is permuted row <see cref="Inverse"/>[i]. Sketches are relabelled with it, never
/// rebuilt (<see cref="NeighbourLists.RelabelInto"/>, <see cref="CentredKernels.GatherPermuted"/>,
/// <see cref="SvccaBasis.Permuted"/>).
/// </summary>
public sealed class SamplePermutation
{
    private readonly int[] _forward;
    private readonly int[] _inverse;

    private SamplePermutation(int[] forward, int[] inverse)
    {
        _forward = forward;
        _inverse = inverse;
    }

    public int SampleCount => _forward.Length;

    /// <summary>π: permuted row r is original row π[r].</summary>
    public ReadOnlySpan<int> Forward => _forward;

    /// <summary>π⁻¹: original row i is permuted row π⁻¹[i].</summary>
    public ReadOnlySpan<int> Inverse => _inverse;

    public static SamplePermutation Identity(int sampleCount) =>
        new(Enumerable.Range(0, sampleCount).ToArray(), Enumerable.Range(0, sampleCount).ToArray());

    /// <summary>
    /// Takes <paramref name="forward"/> (not copied) after checking it is a permutation of 0..N-1; an
    /// <see cref="AlignmentException"/> names <paramref name="what"/> (e.g. "permutations row 3") and the offending value.
    /// </summary>
    public static SamplePermutation From(int[] forward, string what)
    {
        int n = forward.Length;
        var inverse = new int[n];
        Array.Fill(inverse, -1);
        for (int r = 0; r < n; r++)
        {
            int i = forward[r];
            if ((uint)i >= (uint)n)
                throw new AlignmentException(ErrorKind.ValueError, $"{what}: value {i} at position {r} is outside [0, {n}): not a permutation of {n} samples");
            if (inverse[i] >= 0)
                throw new AlignmentException(ErrorKind.ValueError, $"{what}: value {i} appears twice (positions {inverse[i]} and {r}): not a permutation");
            inverse[i] = r;
        }
        return new SamplePermutation(forward, inverse);
    }
}
