using Prh.Alignment.Metrics;

namespace Prh.Alignment.Analysis;

/// <summary>
/// A sweep's models x models matrix as the analyses read it: one alignment per unordered pair, the mean
/// of the two entries. Most metrics are mirrored already; cknna and cycle_knn are not symmetric, and
/// the paper's plots put one number on each pair of models.
/// </summary>
public static class SymmetricAlignment
{
    /// <summary>
    /// (s[i][j] + s[j][i]) / 2 for i != j. The diagonal is left NaN: a model's alignment with itself
    /// is no pair and no analysis reads it. Refuses a non-square matrix and a non-finite score, naming
    /// the models, since one NaN would make every bucket and every coordinate NaN.
    /// </summary>
    public static double[][] Scores(IReadOnlyList<string> models, IReadOnlyList<IReadOnlyList<double>> scores)
    {
        int n = models.Count;
        if (scores.Count != n)
            throw new AlignmentException(ErrorKind.ValueError, $"the matrix has {scores.Count} rows for {n} models");
        for (int i = 0; i < n; i++)
            if (scores[i].Count != n)
                throw new AlignmentException(ErrorKind.ValueError, $"row {i} ({models[i]}) of the matrix has {scores[i].Count} scores for {n} models");
        var symmetric = new double[n][];
        for (int i = 0; i < n; i++)
        {
            symmetric[i] = new double[n];
            for (int j = 0; j < n; j++)
            {
                if (i == j)
                {
                    symmetric[i][j] = double.NaN;
                    continue;
                }
                if (!double.IsFinite(scores[i][j]))
                    throw new AlignmentException(ErrorKind.ValueError, $"the score of ({models[i]}, {models[j]}) is {scores[i][j]}; the analyses need every pair scored");
                symmetric[i][j] = (scores[i][j] + scores[j][i]) / 2;
            }
        }
        return symmetric;
    }

    /// <summary>
    /// 1 - alignment off the diagonal and 0 on it: alignment scores are at most 1 for identical
    /// representations, so the most aligned models are the nearest.
    /// </summary>
    public static double[][] Distances(double[][] symmetric)
    {
        int n = symmetric.Length;
        var distances = new double[n][];
        for (int i = 0; i < n; i++)
        {
            distances[i] = new double[n];
            for (int j = 0; j < n; j++) distances[i][j] = i == j ? 0 : 1 - symmetric[i][j];
        }
        return distances;
    }
}
