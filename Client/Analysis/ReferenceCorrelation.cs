using Prh.Alignment.Analysis;

namespace Prh.Client.Analysis;

/// <summary>
/// The paper's Fig. 3 for one reference: the models outside <see cref="Group"/> (indices into the
/// matrix), each one's mean alignment with the group, and how that alignment goes with competence.
/// Both intervals come from the same resamples of models (one seed), so they are comparable.
/// </summary>
internal sealed record ReferenceCorrelation(IReadOnlyList<int> Group, ReferenceAlignment Points, BootstrapInterval Spearman, BootstrapInterval Pearson, int Seed);
