using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Calibration;

/// <summary>
/// The K permutations of the N samples every model pair of a calibration shares (draw k relabels the second
/// argument's samples by row k for every layer and every pair, as the paper's pipeline does: CALIBRATION.md §2.3).
/// Either recorded (a (K, N) integer .npy such as the fixtures' perms.npy: exact reproduction of a torch run)
/// or drawn by <see cref="Seeded"/>, our own documented generator: deterministic on every machine, and each
/// draw computable on its own (a tile, a silo, draws in parallel) without the draws before it.
/// </summary>
public sealed class SamplePermutations
{
    private readonly SamplePermutation[] _draws;

    private SamplePermutations(SamplePermutation[] draws, int sampleCount)
    {
        _draws = draws;
        SampleCount = sampleCount;
    }

    /// <summary>K.</summary>
    public int Count => _draws.Length;

    /// <summary>N.</summary>
    public int SampleCount { get; }

    public SamplePermutation this[int draw] => _draws[draw];

    /// <summary>The first <paramref name="count"/> draws (the fixtures' small-K variants use perms.npy's first rows).</summary>
    public SamplePermutations Take(int count)
    {
        PermutationTest.Validate(count, 0.5);
        if (count > Count) throw new AlignmentException(ErrorKind.ValueError, $"K = {count} exceeds the {Count} permutations held");
        return new SamplePermutations(_draws[..count], SampleCount);
    }

    /// <summary>Refuses a set made for another N, naming the field.</summary>
    public void CheckSampleCount(int sampleCount)
    {
        if (sampleCount != SampleCount)
            throw new AlignmentException(ErrorKind.ValueError, $"permutations: they permute {SampleCount} samples, the models have {sampleCount}");
    }

    /// <summary>
    /// Rows of K x N integers, row k = draw k (<c>Y[perm[k]]</c>). Refused, naming the field: K &lt; 1, N &lt; 1, a length
    /// that is not K x N, and a row that is not a permutation (its row, position and value).
    /// </summary>
    public static SamplePermutations FromRows(ReadOnlySpan<long> values, int count, int sampleCount)
    {
        if (count < 1) throw new AlignmentException(ErrorKind.ValueError, $"permutations: K (rows) must be at least 1, got {count}");
        if (sampleCount < 1) throw new AlignmentException(ErrorKind.ValueError, $"permutations: N (columns) must be at least 1, got {sampleCount}");
        if (values.Length != (long)count * sampleCount)
            throw new AlignmentException(ErrorKind.ValueError, $"permutations: {values.Length} values are not {count} x {sampleCount}");
        var draws = new SamplePermutation[count];
        for (int k = 0; k < count; k++)
        {
            var row = new int[sampleCount];
            for (int r = 0; r < sampleCount; r++)
            {
                long v = values[k * sampleCount + r];
                row[r] = v is >= int.MinValue and <= int.MaxValue ? (int)v : (v < 0 ? -1 : int.MaxValue);
                if (row[r] != v)
                    throw new AlignmentException(ErrorKind.ValueError, $"permutations row {k}: value {v} at position {r} is outside [0, {sampleCount}): not a permutation of {sampleCount} samples");
            }
            draws[k] = SamplePermutation.From(row, $"permutations row {k}");
        }
        return new SamplePermutations(draws, sampleCount);
    }

    /// <summary>
    /// A (K, N) .npy of integers (int64 as torch saves them; any integer type is read). A floating-point file,
    /// another rank, or a bad row is refused naming the file and the field.
    /// </summary>
    public static SamplePermutations Load(string path) => FromNpy(path, NpyFile.Read(path));

    /// <summary><see cref="Load(string)"/> of a file's bytes already in memory (<paramref name="path"/> names it in errors).</summary>
    public static SamplePermutations Load(string path, byte[] content) => FromNpy(path, NpyFile.Read(path, content));

    private static SamplePermutations FromNpy(string path, Tensor tensor)
    {
        if (!tensor.SourceType.IsInteger())
            throw new AlignmentException(ErrorKind.ValueError, $"{path}: permutations must be integers, the file holds {TensorCodec.Describe(tensor.SourceType)}");
        if (tensor.Rank != 2)
            throw new AlignmentException(ErrorKind.ValueError, $"{path}: permutations must be a (K, N) array, the file's shape is {TensorCodec.FormatShape(tensor.Shape)}");
        var values = new long[tensor.Values.Length];
        for (int i = 0; i < values.Length; i++) values[i] = (long)tensor.Values[i];
        try
        {
            return FromRows(values, tensor.Shape[0], tensor.Shape[1]);
        }
        catch (AlignmentException e)
        {
            throw new AlignmentException(e.Kind, $"{path}: {e.Message}");
        }
    }

    /// <summary>
    /// K permutations of N from <paramref name="seed"/>. Draw k is a Fisher–Yates shuffle (Durstenfeld: for
    /// i = N-1 down to 1, swap π[i] with π[j], j uniform in [0, i]) of the identity, fed by its own SplitMix64
    /// stream (Steele, Lea and Flood 2014) whose state starts at mix(seed + (k + 1) γ), γ = 0x9E3779B97F4A7C15,
    /// each output mix(state += γ) with mix the SplitMix64 finaliser. j is drawn by Lemire's unbiased
    /// multiply-shift (2019): x · (i + 1) over 128 bits, high word, redrawing while the low word is below
    /// 2^64 mod (i + 1). Integer arithmetic only: the same permutations on every machine and runtime.
    /// </summary>
    public static SamplePermutations Seeded(ulong seed, int count, int sampleCount)
    {
        if (count < 1) throw new AlignmentException(ErrorKind.ValueError, $"K (the number of permutations) must be at least 1, got {count}");
        if (sampleCount < 1) throw new AlignmentException(ErrorKind.ValueError, $"permutations: N must be at least 1, got {sampleCount}");
        var draws = new SamplePermutation[count];
        Parallel.For(0, count, k => draws[k] = SamplePermutation.From(SeededDraw(seed, k, sampleCount), $"permutation {k}"));
        return new SamplePermutations(draws, sampleCount);
    }

    /// <summary>Draw <paramref name="draw"/> of <see cref="Seeded"/> alone.</summary>
    public static int[] SeededDraw(ulong seed, int draw, int sampleCount)
    {
        const ulong gamma = 0x9E3779B97F4A7C15;
        ulong state = Mix(seed + (ulong)(draw + 1) * gamma);
        var permutation = new int[sampleCount];
        for (int i = 0; i < sampleCount; i++) permutation[i] = i;
        for (int i = sampleCount - 1; i > 0; i--)
        {
            ulong bound = (ulong)i + 1, threshold = (0 - bound) % bound;
            ulong high, low;
            do
            {
                state += gamma;
                high = Math.BigMul(Mix(state), bound, out low);
            } while (low < threshold);
            int j = (int)high;
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }
        return permutation;
    }

    /// <summary>The SplitMix64 finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
