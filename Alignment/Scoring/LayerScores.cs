namespace Prh.Alignment.Scoring;

/// <summary>
/// compute_score's answer with the matrix the reference throws away: every layer pair's score
/// (rows are x's layers), the best score and its (x layer, y layer), or null when no score is positive.
/// </summary>
public sealed record LayerScores(double[,] Scores, double BestScore, (int X, int Y)? BestIndices)
{
    /// <summary>
    /// The reference's best-pair rule: scan row-major (x layer outer), keep a score only if strictly
    /// greater than the best so far, starting from 0; so the first maximum wins, NaN never does, and
    /// no positive score gives (0, none).
    /// </summary>
    public static LayerScores FromMatrix(double[,] scores)
    {
        double best = 0;
        (int, int)? at = null;
        for (int i = 0; i < scores.GetLength(0); i++)
            for (int j = 0; j < scores.GetLength(1); j++)
                if (scores[i, j] > best) { best = scores[i, j]; at = (i, j); }
        return new LayerScores(scores, best, at);
    }
}
