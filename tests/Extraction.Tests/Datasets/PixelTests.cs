using Prh.Extraction.Datasets;
using SkiaSharp;

namespace Prh.Extraction.Tests.Datasets;

/// <summary>
/// The builder's pixels for real Tux Paint stamps against a hand computation from the decoded RGBA:
/// composited on white, padded on white to a centred square, sized, scaled and normalised.
/// </summary>
public sealed class PixelTests : IDisposable
{
    /// <summary>The builder blends in 8-bit premultiplied colour, the hand computation in doubles: one level apart at most.</summary>
    private const double OneLevel = 1.0001 / 255;

    private readonly string _dir = Directory.CreateTempSubdirectory("prh-dataset-pixels-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private double[] Build(string image, int size, bool normalize = true)
    {
        string samples = Path.Combine(_dir, "one.tsv");
        File.WriteAllText(samples, $"s0\t{image}\t\n");
        var dataset = DatasetBuilder.Build(samples, new DatasetOptions { ImageSize = size, Normalize = normalize });
        Assert.Equal([1, 3, size, size], dataset.Pixels!.Shape);
        Assert.Equal(Alignment.IO.TensorDType.Float32, dataset.Pixels.SourceType);
        return dataset.Pixels.Values;
    }

    /// <summary>The image as unpremultiplied RGBA bytes, as stored.</summary>
    private static (int Width, int Height, byte[] Rgba) Decode(string path)
    {
        using var codec = SKCodec.Create(path);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, bitmap.GetPixels()));
        return (info.Width, info.Height, bitmap.GetPixelSpan().ToArray());
    }

    /// <summary>By hand: [3, side, side] in [0, 1], each pixel a·colour + (1 − a)·white, centred, white around.</summary>
    private static double[] PaddedOnWhite(string path, out int side)
    {
        var (w, h, rgba) = Decode(path);
        side = Math.Max(w, h);
        int plane = side * side, left = (side - w) / 2, top = (side - h) / 2;
        var square = Enumerable.Repeat(1.0, 3 * plane).ToArray();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double alpha = rgba[4 * (y * w + x) + 3] / 255.0;
                for (int c = 0; c < 3; c++)
                    square[c * plane + (top + y) * side + left + x] = alpha * rgba[4 * (y * w + x) + c] / 255.0 + (1 - alpha);
            }
        return square;
    }

    private static int Side(string path)
    {
        var (w, h, _) = Decode(path);
        return Math.Max(w, h);
    }

    private static double Unnormalize(double v, int c) => v * ImageInput.ImageNetStd[c] + ImageInput.ImageNetMean[c];

    /// <summary>Stamps that are not square and have transparent pixels: padding and compositing both show.</summary>
    private static IEnumerable<string> PaddedTransparentStamps(int count) => Stamps.Pairs.Select(p => p.ImagePath).Where(path =>
    {
        var (w, h, rgba) = Decode(path);
        return w != h && rgba.Where((_, i) => i % 4 == 3).Any(a => a == 0);
    }).Take(count);

    [Fact]
    public void Stamps_at_their_own_size_are_composited_padded_and_normalised_as_by_hand()
    {
        foreach (string stamp in PaddedTransparentStamps(3))
        {
            var expected = PaddedOnWhite(stamp, out int side);
            var got = Build(stamp, side);
            int plane = side * side;
            for (int i = 0; i < got.Length; i++)
                Assert.True(Math.Abs(Unnormalize(got[i], i / plane) - expected[i]) <= OneLevel,
                    $"{stamp} channel {i / plane} at ({i % side}, {i % plane / side}): {Unnormalize(got[i], i / plane)}, by hand {expected[i]}");
        }
    }

    [Fact]
    public void Without_normalisation_pixels_stay_in_0_1()
    {
        string stamp = PaddedTransparentStamps(1).Single();
        var expected = PaddedOnWhite(stamp, out int side);
        var got = Build(stamp, side, normalize: false);
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - expected[i]) <= OneLevel, $"{stamp} value {i}: {got[i]}, by hand {expected[i]}");
        Assert.Equal(1.0, got[0]); // the top-left corner is padding or transparent: white
    }

    [Fact]
    public void Halving_a_stamp_averages_each_2_x_2_block()
    {
        string stamp = PaddedTransparentStamps(10).First(p => Side(p) % 2 == 0);
        var padded = PaddedOnWhite(stamp, out int side);
        int size = side / 2, plane = size * size;
        var got = Build(stamp, size);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double mean = 0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) mean += padded[c * side * side + (2 * y + dy) * side + 2 * x + dx] / 4;
                    double value = Unnormalize(got[c * plane + y * size + x], c);
                    Assert.True(Math.Abs(value - mean) <= 2 * OneLevel, $"{stamp} channel {c} at ({x}, {y}): {value}, the 2 x 2 mean {mean}");
                }
    }

    [Fact]
    public void Enlarging_keeps_the_padding_white_and_fills_S_x_S()
    {
        string stamp = Stamps.Pairs.Select(p => p.ImagePath).First(p =>
        {
            var (w, h, _) = Decode(p);
            return h * 2 <= w && w is >= 40 and <= 200;
        });
        var (w, h, _) = Decode(stamp);
        // The rows of padding above and below the image once doubled, less the cubic's reach.
        int size = 2 * w, band = (w - h) / 2 * 2 - 8;
        var got = Build(stamp, size);
        double white(int c) => (1 - ImageInput.ImageNetMean[c]) / ImageInput.ImageNetStd[c];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < band; y++)
                for (int x = 0; x < size; x++)
                {
                    Assert.Equal(white(c), got[c * size * size + y * size + x], 5);
                    Assert.Equal(white(c), got[c * size * size + (size - 1 - y) * size + x], 5);
                }
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Webp)]
    public void JPEG_and_WebP_decode_as_their_pixels(SKEncodedImageFormat format)
    {
        string stamp = PaddedTransparentStamps(1).Single();
        string encoded = Path.Combine(_dir, "stamp." + format.ToString().ToLowerInvariant());
        using (var bitmap = SKBitmap.Decode(stamp))
        using (var data = bitmap.Encode(format, 90))
            File.WriteAllBytes(encoded, data.ToArray());
        var expected = PaddedOnWhite(encoded, out int side);
        var got = Build(encoded, side);
        int plane = side * side;
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(Unnormalize(got[i], i / plane) - expected[i]) <= OneLevel, $"{format} value {i}: {Unnormalize(got[i], i / plane)}, by hand {expected[i]}");
    }
}
