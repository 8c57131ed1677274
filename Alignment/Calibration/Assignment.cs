namespace Prh.Alignment.Calibration;

/// <summary>
/// The maximum-weight matching of a rows x columns matrix: each of the min(rows, columns) rows (or columns,
/// whichever are fewer) matched to a distinct column (row), the matched entries' sum as large as possible,
/// as <c>scipy.optimize.linear_sum_assignment(-S)</c>. The Hungarian method with potentials (Kuhn 1955,
/// Munkres 1957; the O(n² m) shortest-augmenting-path form of Jonker and Volgenant): the smaller side's
/// entries are added one at a time, each by a Dijkstra search over reduced costs. Deterministic tie rule:
/// the search takes the unvisited column of smallest reduced cost, the lowest column index among equals, so
/// of several optimal matchings the same one is always returned (the optimal sum is the same for all of them).
/// </summary>
public sealed class Assignment
{
    private double[] _u = [], _v = [], _minimum = [];
    private int[] _match = [], _way = [];
    private bool[] _used = [];

    /// <summary>
    /// Σ S[i, match(i)] over the matching, summed in order of the smaller side's index, and the matching's size
    /// min(rows, columns). <paramref name="s"/> is row-major; NaN anywhere gives NaN (scipy refuses such a matrix).
    /// </summary>
    public (double Sum, int Size) MaximumWeight(ReadOnlySpan<double> s, int rows, int columns)
    {
        foreach (double value in s[..(rows * columns)]) if (double.IsNaN(value)) return (double.NaN, Math.Min(rows, columns));
        bool transposed = rows > columns;
        int n = transposed ? columns : rows, m = transposed ? rows : columns;
        Ensure(m);
        // Cost of (smaller-side i, other-side j), 1-based as in the classic formulation: the negated similarity.
        double Cost(ReadOnlySpan<double> matrix, int i, int j) => transposed ? -matrix[(j - 1) * columns + (i - 1)] : -matrix[(i - 1) * columns + (j - 1)];

        Array.Clear(_u, 0, n + 1);
        Array.Clear(_v, 0, m + 1);
        Array.Clear(_match, 0, m + 1);
        for (int i = 1; i <= n; i++)
        {
            _match[0] = i;
            int j0 = 0;
            Array.Fill(_minimum, double.PositiveInfinity, 0, m + 1);
            Array.Clear(_used, 0, m + 1);
            do
            {
                _used[j0] = true;
                int i0 = _match[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (_used[j]) continue;
                    double reduced = Cost(s, i0, j) - _u[i0] - _v[j];
                    if (reduced < _minimum[j]) { _minimum[j] = reduced; _way[j] = j0; }
                    if (_minimum[j] < delta) { delta = _minimum[j]; j1 = j; }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (_used[j]) { _u[_match[j]] += delta; _v[j] -= delta; }
                    else _minimum[j] -= delta;
                }
                j0 = j1;
            } while (_match[j0] != 0);
            do
            {
                int j1 = _way[j0];
                _match[j0] = _match[j1];
                j0 = j1;
            } while (j0 != 0);
        }

        // _match[j] = the smaller-side entry matched to other-side j; sum in the smaller side's order.
        Span<int> matchOf = n <= 1024 ? stackalloc int[n] : new int[n];
        for (int j = 1; j <= m; j++) if (_match[j] != 0) matchOf[_match[j] - 1] = j - 1;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += transposed ? s[matchOf[i] * columns + i] : s[i * columns + matchOf[i]];
        return (sum, n);
    }

    private void Ensure(int m)
    {
        if (_v.Length > m) return;
        _u = new double[m + 1];
        _v = new double[m + 1];
        _minimum = new double[m + 1];
        _match = new int[m + 1];
        _way = new int[m + 1];
        _used = new bool[m + 1];
    }
}
