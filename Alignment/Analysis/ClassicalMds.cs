using Prh.Alignment.Compute;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Analysis;

/// <summary>
/// Classical (Torgerson) multidimensional scaling, the paper's Fig. 2 (right): points in a few
/// dimensions whose distances approximate a matrix of distances. B = -1/2 J D² J, with D² the squared
/// distances and J the centring matrix, is the Gram matrix of centred points when D is Euclidean;
/// its top eigenvectors scaled by the square roots of their eigenvalues are the coordinates.
/// Deterministic: no random start (unlike SMACOF), and the eigenvectors come from
/// <see cref="SymmetricEigen"/>, which signs each so its largest-magnitude component is positive:
/// on every axis the item farthest from the centre lies on the positive side.
/// </summary>
public static class ClassicalMds
{
    /// <summary>
    /// Coordinates of the n items of the symmetric matrix <paramref name="distances"/> (zero diagonal)
    /// in <paramref name="dimensions"/> axes. An axis whose eigenvalue is not positive (beyond rounding)
    /// carries no real coordinate, so it is all zeros.
    /// </summary>
    public static MdsEmbedding Embed(double[][] distances, int dimensions)
    {
        int n = distances.Length;
        if (dimensions < 1 || dimensions > n)
            throw new AlignmentException(ErrorKind.ValueError, $"classical MDS of {n} items can place them in 1 to {n} dimensions; got {dimensions}");
        for (int i = 0; i < n; i++)
            if (distances[i].Length != n)
                throw new AlignmentException(ErrorKind.ValueError, $"row {i} of the distances has {distances[i].Length} values for {n} items");
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (!double.IsFinite(distances[i][j]) || distances[i][j] != distances[j][i] || (i == j && distances[i][j] != 0))
                    throw new AlignmentException(ErrorKind.ValueError,
                        $"classical MDS needs finite symmetric distances with a zero diagonal; ({i}, {j}) is {distances[i][j]}, ({j}, {i}) is {distances[j][i]}");

        // Double centring of the squared distances: b_ij = -1/2 (d²_ij - row_i - column_j + all), with
        // the row, column and grand means of D²; the eigensolver reads the lower triangle only.
        var squared = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) squared[i * n + j] = distances[i][j] * distances[i][j];
        var rowMeans = new double[n];
        var columnMeans = new double[n];
        double grandMean = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                rowMeans[i] += squared[i * n + j] / n;
                columnMeans[j] += squared[i * n + j] / n;
                grandMean += squared[i * n + j] / ((double)n * n);
            }
        var gram = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) gram[i * n + j] = -0.5 * (squared[i * n + j] - rowMeans[i] - columnMeans[j] + grandMean);

        var eigenvalues = new double[n];
        SymmetricEigen.Decompose(gram, n, eigenvalues);
        // An eigenvalue that is zero up to rounding (an axis a configuration of fewer dimensions lacks) would
        // otherwise give coordinates of about 1e-8, the square root of the rounding: noise, not an axis.
        // The cut, 1e-12 n of the largest, is well above the solver's rounding (a few n eps) and well
        // below any axis a plot could show.
        double negligible = 1e-12 * n * Math.Max(eigenvalues[0], 0);
        var coordinates = new double[n][];
        for (int i = 0; i < n; i++)
        {
            coordinates[i] = new double[dimensions];
            for (int axis = 0; axis < dimensions; axis++)
                coordinates[i][axis] = eigenvalues[axis] > negligible ? gram[axis * n + i] * Math.Sqrt(eigenvalues[axis]) : 0;
        }
        return new MdsEmbedding(coordinates, eigenvalues);
    }
}
