namespace Prh.Alignment.Analysis;

/// <summary>
/// One bucket of models of similar competence: its models (indices into the matrix, by ascending
/// competence), their competence range, and the mean and standard error of the alignment of its
/// pairs. The standard error is NaN for a bucket of one pair.
/// </summary>
public sealed record CompetenceBucket(int Index, IReadOnlyList<int> Models, double CompetenceMin, double CompetenceMax, int Pairs, double Mean, double StandardError);
