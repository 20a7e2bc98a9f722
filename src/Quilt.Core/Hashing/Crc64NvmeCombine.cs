namespace Quilt.Core.Hashing;

/// <summary>
/// Joins CRC-64/NVME values of consecutive pieces: crc(A‖B) from crc(A), crc(B) and |B|, so pieces of one
/// object can be checksummed in parallel. Arithmetic on polynomials over GF(2) modulo the CRC polynomial,
/// in the reflected bit order the CRC uses (the top bit holds x^0). Init and xor-out are both all ones,
/// so they cancel: crc(A‖B) = crc(A)·x^(8|B|) + crc(B).
/// </summary>
internal static class Crc64NvmeCombine
{
    private const ulong ReflectedPolynomial = 0x9A6C9329AC4BC9B5;
    private const ulong XPow0 = 1UL << 63;

    // PowerOfTwoShifts[k] = x^(2^k) mod P, for every k a byte length (< 2^63) times 8 can reach.
    private static readonly ulong[] PowerOfTwoShifts = BuildPowerOfTwoShifts();

    public static ulong Combine(ulong crcFirst, ulong crcSecond, long secondLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(secondLength);
        return Multiply(XPowBytes(secondLength), crcFirst) ^ crcSecond;
    }

    /// <summary>x^(8·<paramref name="bytes"/>) mod P.</summary>
    internal static ulong XPowBytes(long bytes)
    {
        var result = XPow0;
        var k = 3; // 8 = 2^3
        for (var n = (ulong)bytes; n != 0; n >>= 1, k++)
        {
            if ((n & 1) != 0)
                result = Multiply(PowerOfTwoShifts[k], result);
        }
        return result;
    }

    /// <summary>a·b mod P, both in reflected order.</summary>
    internal static ulong Multiply(ulong a, ulong b)
    {
        ulong product = 0;
        for (var bit = XPow0; bit != 0; bit >>= 1)
        {
            if ((a & bit) != 0)
                product ^= b;
            // b·x: the x^63 coefficient (lowest bit) leaves and folds back through the polynomial.
            b = (b & 1) != 0 ? (b >> 1) ^ ReflectedPolynomial : b >> 1;
        }
        return product;
    }

    private static ulong[] BuildPowerOfTwoShifts()
    {
        var table = new ulong[3 + 64];
        table[0] = XPow0 >> 1; // x^1
        for (var k = 1; k < table.Length; k++)
            table[k] = Multiply(table[k - 1], table[k - 1]);
        return table;
    }
}
