using Prh.Alignment.IO;

namespace Prh.Alignment.Tests.IO;

public sealed class SafetensorsEncodeTests
{
    [Fact]
    public void Encode_gives_the_bytes_Write_puts_in_a_file()
    {
        (string, int[], double[], TensorDType)[] tensors =
        [
            ("layers.0", [2, 3], [1, 2, 3, 4, 5, 6], TensorDType.Float32),
            ("layers.1", [2, 1], [0.5, -0.25], TensorDType.Float64),
        ];
        string path = Path.Combine(Directory.CreateTempSubdirectory("prh-st-").FullName, "t.safetensors");
        SafetensorsFile.Write(path, tensors);
        Assert.Equal(File.ReadAllBytes(path), SafetensorsFile.Encode(tensors));
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Encode([("x", [1], [double.NaN], TensorDType.Float32)]));
    }
}
