using SkiaSharp;

namespace Prh.Extraction.Datasets;

/// <summary>
/// One image file as a model's pixel input, [3, S, S] RGB: decoded with SkiaSharp (PNG, JPEG, WebP and
/// whatever else Skia reads), composited on white where transparent, padded on white to a centred square
/// (an odd pixel of padding goes right or bottom), resized to S x S, scaled to [0, 1] and, unless told
/// not to, normalised with the ImageNet mean and standard deviation.
/// </summary>
public static class ImageInput
{
    public static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];
    public static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>
    /// Skia's high quality: a downscale samples the mipmaps trilinearly (each level a 2 x 2 mean, so no
    /// pixel is skipped), an upscale interpolates with Mitchell's cubic.
    /// </summary>
    private static readonly SKSamplingOptions s_downscale = new(SKFilterMode.Linear, SKMipmapMode.Linear);
    private static readonly SKSamplingOptions s_upscale = new(SKCubicResampler.Mitchell);

    /// <summary>
    /// Writes the image at <paramref name="path"/> into <paramref name="destination"/> (3 x size x size values,
    /// channel-major). A missing or undecodable file is an <see cref="ExtractionException"/> starting with
    /// <paramref name="what"/> (the sample it belongs to).
    /// </summary>
    public static void Write(string path, int size, bool normalize, Span<double> destination, string what)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (destination.Length != 3 * size * size)
            throw new ArgumentException($"destination holds {destination.Length} values, not 3 x {size} x {size}", nameof(destination));
        if (!File.Exists(path)) throw new ExtractionException($"{what}: image {path} not found");
        using var decoded = Decode(path, what);
        using var square = PadToSquare(decoded);
        using var resized = square.Width == size ? null : Resize(square, size);
        ReadChannels(resized ?? square, normalize, destination);
    }

    private static SKBitmap Decode(string path, string what)
    {
        using var codec = SKCodec.Create(path, out var opened)
            ?? throw new ExtractionException($"{what}: image {path} cannot be decoded ({Describe(opened)})");
        // Premultiplied RGBA with no colour space: the stored values, not converted, ready to blend.
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new ExtractionException($"{what}: image {path} cannot be decoded ({codec.EncodedFormat}: {Describe(result)})");
        }
        return bitmap;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.Unimplemented => "not an image format SkiaSharp reads",
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "the file is truncated or corrupt",
        SKCodecResult.InvalidInput => "not an image SkiaSharp reads",
        _ => result.ToString(),
    };

    /// <summary>The image centred on an opaque white square as wide as its longer side: transparency and padding become white.</summary>
    private static SKBitmap PadToSquare(SKBitmap image)
    {
        int side = Math.Max(image.Width, image.Height);
        var square = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(square);
        using var source = SKImage.FromBitmap(image);
        canvas.Clear(SKColors.White);
        canvas.DrawImage(source, (side - image.Width) / 2, (side - image.Height) / 2);
        return square;
    }

    private static SKBitmap Resize(SKBitmap square, int size)
    {
        var resized = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(resized);
        using var source = SKImage.FromBitmap(square);
        canvas.DrawImage(source, SKRect.Create(size, size), square.Width > size ? s_downscale : s_upscale);
        return resized;
    }

    private static void ReadChannels(SKBitmap image, bool normalize, Span<double> destination)
    {
        int size = image.Width, plane = size * size, rowBytes = image.RowBytes;
        ReadOnlySpan<byte> pixels = image.GetPixelSpan();
        for (int c = 0; c < 3; c++)
        {
            double scale = normalize ? 1 / (255 * ImageNetStd[c]) : 1 / 255d;
            double offset = normalize ? -ImageNetMean[c] / ImageNetStd[c] : 0;
            var channel = destination.Slice(c * plane, plane);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    channel[y * size + x] = pixels[y * rowBytes + 4 * x + c] * scale + offset;
        }
    }
}
