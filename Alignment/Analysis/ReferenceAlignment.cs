using Prh.Alignment.Metrics;

namespace Prh.Alignment.Analysis;

/// <summary>
/// The paper's Fig. 3: how aligned each model is with a reference, one model or a group of them (the
/// paper averages over a family of language models). <see cref="Models"/> are the matrix's models
/// outside the group, in matrix order; <see cref="Alignment"/>[k] is model Models[k]'s mean alignment
/// with the group's models.
/// </summary>
public sealed record ReferenceAlignment(IReadOnlyList<int> Models, IReadOnlyList<double> Alignment)
{
    /// <summary>
    /// The group's models are left out of the points: their alignment with the group includes
    /// themselves, which the matrix does not score as a pair.
    /// </summary>
    public static ReferenceAlignment Against(double[][] symmetric, IReadOnlyList<int> group)
    {
        int n = symmetric.Length;
        if (group.Count == 0) throw new AlignmentException(ErrorKind.ValueError, "the reference group is empty");
        foreach (int g in group)
            if (g < 0 || g >= n) throw new AlignmentException(ErrorKind.ValueError, $"reference model {g} is not one of the matrix's {n} models");
        if (group.Distinct().Count() != group.Count) throw new AlignmentException(ErrorKind.ValueError, "the reference group names a model twice");
        var models = Enumerable.Range(0, n).Where(i => !group.Contains(i)).ToArray();
        return new ReferenceAlignment(models, models.Select(i => group.Average(g => symmetric[i][g])).ToArray());
    }
}
