using Prh.Alignment.Metrics;

namespace Prh.Alignment.Analysis;

/// <summary>
/// The paper's Fig. 2 (left): models grouped by competence, and how aligned the models within each
/// group are. Buckets are quantile buckets of equal size: the models in ascending order of competence
/// cut into B runs whose sizes differ by at most one, so every bucket holds pairs whatever the
/// spread of the scores.
/// </summary>
public static class CompetenceBuckets
{
    /// <summary>
    /// Sorted position p (from 0) goes to bucket floor(p B / n). Models of equal competence are ordered
    /// by their index in the matrix, so a tie at a bucket edge is split the same way every time.
    /// A bucket's alignment is the mean of <paramref name="symmetric"/> over its unordered pairs, and
    /// its standard error the pairs' sample standard deviation over the square root of their number
    /// (the pairs share models, so this understates the spread; the paper's error bars are the same).
    /// </summary>
    public static IReadOnlyList<CompetenceBucket> Build(IReadOnlyList<double> competence, double[][] symmetric, int buckets)
    {
        int n = competence.Count;
        if (symmetric.Length != n)
            throw new AlignmentException(ErrorKind.ValueError, $"{n} competence scores for a matrix of {symmetric.Length} models");
        if (buckets < 1 || 2 * buckets > n)
            throw new AlignmentException(ErrorKind.ValueError,
                $"{buckets} competence buckets need at least {2 * Math.Max(buckets, 1)} models (2 per bucket, for a pair); the matrix has {n}, so at most {n / 2} buckets");
        var order = Enumerable.Range(0, n).OrderBy(i => competence[i]).ThenBy(i => i).ToArray();
        var result = new List<CompetenceBucket>(buckets);
        for (int b = 0; b < buckets; b++)
        {
            // Positions p with floor(p B / n) = b, i.e. ceil(b n / B) <= p < ceil((b + 1) n / B).
            int start = (b * n + buckets - 1) / buckets, end = ((b + 1) * n + buckets - 1) / buckets;
            var members = order[start..end];
            var values = new List<double>();
            for (int x = 0; x < members.Length; x++)
                for (int y = x + 1; y < members.Length; y++) values.Add(symmetric[members[x]][members[y]]);
            double mean = values.Average();
            double standardError = values.Count < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) / values.Count);
            result.Add(new CompetenceBucket(b, members, competence[members[0]], competence[members[^1]], values.Count, mean, standardError));
        }
        return result;
    }
}
