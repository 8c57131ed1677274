namespace Prh.Alignment.IO;

/// <summary>The floating-point element types tensor files may hold.</summary>
public enum TensorDType
{
    Float16,
    BFloat16,
    Float32,
    Float64,
}
