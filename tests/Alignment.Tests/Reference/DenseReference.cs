namespace Prh.Alignment.Tests.Reference;

/// <summary>
/// The reference's metrics written the plain way, straight from platonic-rep's formulas: dense
/// N x N masks, explicit H K H products, full sorts. O(N^3) and slow on purpose; the sketch path
/// must agree with it. Matrices are double[n, n]; features double[n, d].
/// </summary>
public static class DenseReference
{
    public static double[,] Gram(double[,] x)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var g = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) s += x[i, t] * x[j, t];
                g[i, j] = s;
            }
        return g;
    }

    /// <summary>K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)), distances summed directly.</summary>
    public static double[,] Rbf(double[,] x, double sigma)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var k = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) s += (x[i, t] - x[j, t]) * (x[i, t] - x[j, t]);
                k[i, j] = Math.Exp(-s / (2 * sigma * sigma));
            }
        return k;
    }

    /// <summary>compute_nearest_neighbors: diagonal -1e8, descending sort (ties: lower index), first k columns.</summary>
    public static int[][] Knn(double[,] x, int topk)
    {
        var s = Gram(x);
        int n = s.GetLength(0);
        var lists = new int[n][];
        for (int i = 0; i < n; i++)
        {
            s[i, i] = -1e8;
            int row = i;
            lists[i] = Enumerable.Range(0, n).OrderByDescending(j => s[row, j]).ThenBy(j => j).Take(topk).ToArray();
        }
        return lists;
    }

    public static double MutualKnn(double[,] a, double[,] b, int topk)
    {
        var ka = Knn(a, topk);
        var kb = Knn(b, topk);
        int n = ka.Length, k = ka[0].Length;
        var maskA = new double[n, n];
        var maskB = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < k; t++) { maskA[i, ka[i][t]] = 1; maskB[i, kb[i][t]] = 1; }
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++) row += maskA[i, j] * maskB[i, j];
            mean += row / k;
        }
        return mean / n;
    }

    public static double CycleKnn(double[,] a, double[,] b, int topk)
    {
        var ka = Knn(a, topk);
        var kb = Knn(b, topk);
        int n = ka.Length, hits = 0;
        for (int i = 0; i < n; i++)
            if (kb[i].SelectMany(j => ka[j]).Contains(i)) hits++;
        return (double)hits / n;
    }

    public static double LcsKnn(double[,] a, double[,] b, int topk)
    {
        var ka = Knn(a, topk);
        var kb = Knn(b, topk);
        return ka.Zip(kb, (x, y) => (double)Lcs(x, y)).Average();
    }

    public static double EditDistanceKnn(double[,] a, double[,] b, int topk)
    {
        var ka = Knn(a, topk);
        var kb = Knn(b, topk);
        return 1 - ka.Zip(kb, (x, y) => (double)Levenshtein(x, y)).Average() / ka[0].Length;
    }

    private static int Lcs(int[] x, int[] y)
    {
        var t = new int[x.Length + 1, y.Length + 1];
        for (int p = 1; p <= x.Length; p++)
            for (int q = 1; q <= y.Length; q++)
                t[p, q] = x[p - 1] == y[q - 1] ? t[p - 1, q - 1] + 1 : Math.Max(t[p - 1, q], t[p, q - 1]);
        return t[x.Length, y.Length];
    }

    private static int Levenshtein(int[] x, int[] y)
    {
        var t = new int[x.Length + 1, y.Length + 1];
        for (int p = 0; p <= x.Length; p++) t[p, 0] = p;
        for (int q = 0; q <= y.Length; q++) t[0, q] = q;
        for (int p = 1; p <= x.Length; p++)
            for (int q = 1; q <= y.Length; q++)
                t[p, q] = Math.Min(t[p - 1, q - 1] + (x[p - 1] == y[q - 1] ? 0 : 1), Math.Min(t[p - 1, q], t[p, q - 1]) + 1);
        return t[x.Length, y.Length];
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = b.GetLength(1), k = a.GetLength(1);
        var c = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < k; t++)
            {
                double v = a[i, t];
                if (v == 0) continue;
                for (int j = 0; j < m; j++) c[i, j] += v * b[t, j];
            }
        return c;
    }

    /// <summary>hsic_biased: trace(K H L H), H = I - 1/N.</summary>
    public static double HsicBiased(double[,] k, double[,] l)
    {
        int n = k.GetLength(0);
        var h = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) h[i, j] = (i == j ? 1 : 0) - 1.0 / n;
        var p = Multiply(Multiply(Multiply(k, h), l), h);
        double trace = 0;
        for (int i = 0; i < n; i++) trace += p[i, i];
        return trace;
    }

    /// <summary>hsic_unbiased (Song et al. 2012), with the reference's transpose in the first term.</summary>
    public static double HsicUnbiased(double[,] k, double[,] l)
    {
        int m = k.GetLength(0);
        var kt = (double[,])k.Clone();
        var lt = (double[,])l.Clone();
        for (int i = 0; i < m; i++) { kt[i, i] = 0; lt[i, i] = 0; }
        double first = 0, sumK = 0, sumL = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) { first += kt[i, j] * lt[j, i]; sumK += kt[i, j]; sumL += lt[i, j]; }
        var product = Multiply(kt, lt);
        double sumProduct = 0;
        foreach (double v in product) sumProduct += v;
        return (first + sumK * sumL / ((m - 1.0) * (m - 2.0)) - 2 * sumProduct / (m - 2.0)) / (m * (m - 3.0));
    }

    public static double Cka(double[,] a, double[,] b, bool rbf, double sigma, bool unbiased)
    {
        var k = rbf ? Rbf(a, sigma) : Gram(a);
        var l = rbf ? Rbf(b, sigma) : Gram(b);
        Func<double[,], double[,], double> hsic = unbiased ? HsicUnbiased : HsicBiased;
        return hsic(k, l) / (Math.Sqrt(hsic(k, k) * hsic(l, l)) + 1e-6);
    }

    /// <summary>cknna with torch.topk on the diagonal-masked kernels and dense 0/1 masks.</summary>
    public static double Cknna(double[,] a, double[,] b, int topk, bool unbiased)
    {
        var k = Gram(a);
        var l = Gram(b);
        double Similarity(double[,] p, double[,] q)
        {
            int n = p.GetLength(0);
            var mask = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                int row = i;
                Func<double[,], int, double> hat = (m, j) => unbiased && j == row ? double.NegativeInfinity : m[row, j];
                var topP = Enumerable.Range(0, n).OrderByDescending(j => hat(p, j)).ThenBy(j => j).Take(topk).ToHashSet();
                var topQ = Enumerable.Range(0, n).OrderByDescending(j => hat(q, j)).ThenBy(j => j).Take(topk);
                foreach (int j in topQ) if (topP.Contains(j)) mask[i, j] = 1;
            }
            var mp = new double[n, n];
            var mq = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) { mp[i, j] = mask[i, j] * p[i, j]; mq[i, j] = mask[i, j] * q[i, j]; }
            return unbiased ? HsicUnbiased(mp, mq) : HsicBiased(mp, mq);
        }
        return Similarity(k, l) / (Math.Sqrt(Similarity(k, k) * Similarity(l, l)) + 1e-6);
    }

    /// <summary>
    /// svcca's exact value: the mean singular value of Q_A^T Q_B, with Q the top cca_dim eigenvectors of
    /// Xs Xs^T (Xs standardised as the reference does), all from a cyclic Jacobi eigen-solver.
    /// </summary>
    public static double Svcca(double[,] a, double[,] b, int ccaDim)
    {
        var qa = TopEigenvectors(Gram(Standardise(a)), ccaDim);
        var qb = TopEigenvectors(Gram(Standardise(b)), ccaDim);
        int n = a.GetLength(0);
        var c = new double[ccaDim, ccaDim];
        for (int s = 0; s < ccaDim; s++)
            for (int t = 0; t < ccaDim; t++)
                for (int i = 0; i < n; i++) c[s, t] += qa[s][i] * qb[t][i];
        var ctc = new double[ccaDim, ccaDim];
        for (int s = 0; s < ccaDim; s++)
            for (int t = 0; t < ccaDim; t++)
                for (int r = 0; r < ccaDim; r++) ctc[s, t] += c[r, s] * c[r, t];
        var (values, _) = Jacobi(ctc);
        return values.Select(v => Math.Sqrt(Math.Max(v, 0))).Average();
    }

    private static double[,] Standardise(double[,] x)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var s = new double[n, d];
        for (int t = 0; t < d; t++)
        {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += x[i, t];
            mean /= n;
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (x[i, t] - mean) * (x[i, t] - mean);
            double std = Math.Sqrt(ss / (n - 1)) + 1e-8;
            for (int i = 0; i < n; i++) s[i, t] = (x[i, t] - mean) / std;
        }
        return s;
    }

    private static double[][] TopEigenvectors(double[,] m, int count)
    {
        var (values, vectors) = Jacobi(m);
        int n = values.Length;
        return Enumerable.Range(0, n).OrderByDescending(i => values[i]).Take(count)
            .Select(i => Enumerable.Range(0, n).Select(r => vectors[r, i]).ToArray()).ToArray();
    }

    /// <summary>Cyclic Jacobi rotations (Golub and Van Loan, 8.5) until the off-diagonal vanishes.</summary>
    public static (double[] Values, double[,] Vectors) Jacobi(double[,] input)
    {
        int n = input.GetLength(0);
        var a = (double[,])input.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) { total += a[i, j] * a[i, j]; if (i != j) off += a[i, j] * a[i, j]; }
            if (off <= 1e-30 * total || off == 0) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int r = 0; r < n; r++)
                    {
                        double arp = a[r, p], arq = a[r, q];
                        a[r, p] = c * arp - s * arq;
                        a[r, q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < n; r++)
                    {
                        double apr = a[p, r], aqr = a[q, r];
                        a[p, r] = c * apr - s * aqr;
                        a[q, r] = s * apr + c * aqr;
                    }
                    for (int r = 0; r < n; r++)
                    {
                        double vrp = v[r, p], vrq = v[r, q];
                        v[r, p] = c * vrp - s * vrq;
                        v[r, q] = s * vrp + c * vrq;
                    }
                }
        }
        return (Enumerable.Range(0, n).Select(i => a[i, i]).ToArray(), v);
    }
}
