using System.Text.Json;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>The README's main job, <c>prh demo</c>, as a process: ONNX zoo, calibrated sweep, files, the paper's width effect, and chance told apart.</summary>
public sealed class DemoTests
{
    [Fact]
    public void Demo_extracts_scores_and_writes_its_files_and_wider_mlps_agree_more()
    {
        string folder = Path.Combine(Directory.CreateTempSubdirectory("prh-demo-test-").FullName, "out");
        var (exit, stdout, stderr) = Run("demo", "--out", folder, "--samples", "96");
        Assert.True(exit == 0, stderr);
        Assert.Contains("sweep demo: completed", stdout);
        Assert.Contains("extracted mlp_w1024:", stdout);
        foreach (string metric in new[] { "mutual_knn@10", "cka", "unbiased_cka", "cknna@10" })
        {
            Assert.True(File.Exists(Path.Combine(folder, $"{metric}.csv")), metric);
            foreach (string png in new[] { $"{metric}.png", $"{metric}.calibrated.png" })
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, png)).Take(4));
            Assert.True(File.Exists(Path.Combine(folder, $"{metric}.calibrated.csv")), metric);
        }
        var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json"))).RootElement;
        var models = results.GetProperty("models").EnumerateArray().Select(m => m.GetString()!).ToList();
        var cka = results.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("metric").GetString() == "cka").GetProperty("scores");
        double Score(string a, string b) => cka[models.IndexOf(a)][models.IndexOf(b)].GetDouble();
        Assert.True(Score("mlp_w256", "mlp_w1024") > Score("mlp_w16", "mlp_w64"),
            $"wide {Score("mlp_w256", "mlp_w1024")} vs narrow {Score("mlp_w16", "mlp_w64")}");

        // Calibrated: the wide MLPs agree beyond chance by every metric; the control that sees noise does not, by mutual_knn.
        foreach (var result in results.GetProperty("results").EnumerateArray())
        {
            var significant = result.GetProperty("calibration").GetProperty("significant");
            bool Significant(string a, string b) => significant[models.IndexOf(a)][models.IndexOf(b)].GetBoolean();
            string metric = result.GetProperty("metric").GetString()!;
            Assert.True(Significant("mlp_w256", "mlp_w1024"), metric);
            if (metric == "mutual_knn") Assert.False(Significant("ctrl_w256", "mlp_w1024"), metric);
        }
    }
}
