namespace Prh.Alignment.IO;

/// <summary>
/// The element types tensor files may hold. Features are floating point; model inputs may also be
/// integers (token ids, masks) or booleans. Every value is held as a double: integers exactly up to 2^53.
/// </summary>
public enum TensorDType
{
    Float16,
    BFloat16,
    Float32,
    Float64,
    Int64,
    Int32,
    UInt8,
    Bool,
}
