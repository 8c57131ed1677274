namespace Prh.Alignment.Features;

/// <summary>
/// Seeded synthetic "models" for benchmarks and tests, shaped like the fixtures' pipeline models:
/// every model sees a shared latent Z (the "platonic" structure) through its own random maps, with a
/// depth profile (alignment peaks mid-network), private structure, heavy-tailed noise and a few
/// "massive activation" channels, so the clamp and the normalisation matter. Not data from a network.
/// Each layer draws from its own stream (seeded by the model's seed and the layer), so layers are
/// generated in parallel and the result does not depend on the number of cores.
/// </summary>
public static class SyntheticZoo
{
    public const int SharedRank = 16;

    /// <summary>One model: <paramref name="layers"/> x <paramref name="width"/> features of <paramref name="samples"/> inputs.</summary>
    public static ModelFeatures Model(string name, int samples, int layers, int width, int seed, int sharedSeed = 1)
    {
        double[] shared = new Normals(new Random(sharedSeed)).Fill(samples * SharedRank);
        var random = new Random(seed);
        double peak = 0.3 + 0.4 * random.NextDouble();
        double[] map = new Normals(random).Fill(SharedRank * width, 1 / Math.Sqrt(SharedRank));
        var result = new LayerFeatures[layers];
        Parallel.For(0, layers, l =>
        {
            var normals = new Normals(new Random(HashCode.Combine(seed, l, 0x5eed)));
            double t = layers == 1 ? 0.5 : (double)l / (layers - 1);
            double strength = 0.1 + Math.Exp(-Math.Pow((t - peak) / 0.3, 2));
            double depthScale = 1 + 3 * t * t;
            double[] layerMap = normals.Fill(SharedRank * width, 0.6 / Math.Sqrt(SharedRank));
            for (int i = 0; i < layerMap.Length; i++) layerMap[i] += map[i];
            var data = new double[samples * width];
            for (int n = 0; n < samples; n++)
            {
                var row = data.AsSpan(n * width, width);
                for (int r = 0; r < SharedRank; r++)
                {
                    double z = strength * shared[n * SharedRank + r];
                    var w = layerMap.AsSpan(r * width, width);
                    for (int d = 0; d < width; d++) row[d] += z * w[d];
                }
                for (int d = 0; d < width; d++) row[d] = (row[d] + 0.7 * normals.StudentT3()) * depthScale;
                if (l > 0) row[n % 2 == 0 ? 0 : Math.Min(1, width - 1)] += 25 * depthScale;
            }
            result[l] = new LayerFeatures(samples, width, data);
        });
        return new ModelFeatures(name, result);
    }

    /// <summary>Standard normals by Box-Muller, both of each pair used.</summary>
    private sealed class Normals(Random random)
    {
        private double _spare;
        private bool _hasSpare;

        public double Next()
        {
            if (_hasSpare)
            {
                _hasSpare = false;
                return _spare;
            }
            double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            var (sin, cos) = Math.SinCos(2 * Math.PI * random.NextDouble());
            _spare = radius * sin;
            _hasSpare = true;
            return radius * cos;
        }

        public double[] Fill(int count, double scale = 1)
        {
            var values = new double[count];
            for (int i = 0; i < count; i++) values[i] = scale * Next();
            return values;
        }

        /// <summary>Student-t with 3 degrees of freedom: N / sqrt(chi2_3 / 3).</summary>
        public double StudentT3()
        {
            double a = Next(), b = Next(), c = Next();
            return Next() / Math.Sqrt((a * a + b * b + c * c) / 3);
        }
    }
}
