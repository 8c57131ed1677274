namespace Prh.Alignment.Features;

/// <summary>
/// Seeded synthetic "models" for benchmarks and tests, shaped like the fixtures' pipeline models:
/// every model sees a shared latent Z (the "platonic" structure) through its own random maps, with a
/// depth profile (alignment peaks mid-network), private structure, heavy-tailed noise and a few
/// "massive activation" channels, so the clamp and the normalisation matter. Not data from a network.
/// </summary>
public static class SyntheticZoo
{
    public const int SharedRank = 16;

    /// <summary>One model: <paramref name="layers"/> x <paramref name="width"/> features of <paramref name="samples"/> inputs.</summary>
    public static ModelFeatures Model(string name, int samples, int layers, int width, int seed, int sharedSeed = 1)
    {
        double[] shared = Gaussian(new Random(sharedSeed), samples * SharedRank);
        var random = new Random(seed);
        double peak = 0.3 + 0.4 * random.NextDouble();
        double[] map = Gaussian(random, SharedRank * width, 1 / Math.Sqrt(SharedRank));
        var result = new LayerFeatures[layers];
        for (int l = 0; l < layers; l++)
        {
            double t = layers == 1 ? 0.5 : (double)l / (layers - 1);
            double strength = 0.1 + Math.Exp(-Math.Pow((t - peak) / 0.3, 2));
            double depthScale = 1 + 3 * t * t;
            double[] layerMap = Gaussian(random, SharedRank * width, 0.6 / Math.Sqrt(SharedRank));
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
                for (int d = 0; d < width; d++) row[d] = (row[d] + 0.7 * StudentT3(random)) * depthScale;
                if (l > 0) row[n % 2 == 0 ? 0 : Math.Min(1, width - 1)] += 25 * depthScale;
            }
            result[l] = new LayerFeatures(samples, width, data);
        }
        return new ModelFeatures(name, result);
    }

    private static double[] Gaussian(Random random, int count, double scale = 1)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = scale * Normal(random);
        return values;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Student-t with 3 degrees of freedom: N / sqrt(chi2_3 / 3).</summary>
    private static double StudentT3(Random random)
    {
        double chi = 0;
        for (int i = 0; i < 3; i++) { double g = Normal(random); chi += g * g; }
        return Normal(random) / Math.Sqrt(chi / 3);
    }
}
