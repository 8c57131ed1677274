using System.Text.Json;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>The README's main job, <c>prh demo</c>, as a process: ONNX zoo, sweep, files, and the paper's width effect.</summary>
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
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(folder, $"{metric}.png")).Take(4));
        }
        var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json"))).RootElement;
        var models = results.GetProperty("models").EnumerateArray().Select(m => m.GetString()!).ToList();
        var cka = results.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("metric").GetString() == "cka").GetProperty("scores");
        double Score(string a, string b) => cka[models.IndexOf(a)][models.IndexOf(b)].GetDouble();
        Assert.True(Score("mlp_w256", "mlp_w1024") > Score("mlp_w16", "mlp_w64"),
            $"wide {Score("mlp_w256", "mlp_w1024")} vs narrow {Score("mlp_w16", "mlp_w64")}");
    }
}
