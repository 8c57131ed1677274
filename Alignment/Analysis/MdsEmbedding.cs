namespace Prh.Alignment.Analysis;

/// <summary>
/// Points placed by classical MDS: <see cref="Coordinates"/>[i] is item i's position, one value per
/// axis; <see cref="Eigenvalues"/> are the doubly centred matrix's eigenvalues, all n in descending
/// order (the first ones are the axes' variances; negative ones say the distances are not Euclidean).
/// </summary>
public sealed record MdsEmbedding(double[][] Coordinates, double[] Eigenvalues);
