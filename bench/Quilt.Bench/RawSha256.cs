using System.Diagnostics;
using System.Globalization;

namespace Quilt.Bench;

/// <summary>The machine's raw SHA-256 speed as OpenSSL measures it, printed beside our own figures.</summary>
public static class RawSha256
{
    /// <summary>Prints OpenSSL's one-core figure and returns it (null when openssl is missing).</summary>
    public static async Task<double?> PrintAsync(TextWriter output)
    {
        var mbps = await MeasureAsync();
        output.WriteLine(mbps is { } v
            ? $"Raw SHA-256 (`openssl speed -evp sha256 -bytes 8192`, one core): {v:F0} MB/s."
            : "Raw SHA-256: openssl is not installed here, see the in-process raw figure below.");
        output.WriteLine();
        return mbps;
    }

    /// <summary>MB/s for 8 KiB blocks on one core, or null when openssl is missing.</summary>
    public static async Task<double?> MeasureAsync()
    {
        try
        {
            var psi = new ProcessStartInfo("openssl", "speed -evp sha256 -bytes 8192 -seconds 2")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(psi)!;
            var text = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            // The last line: "sha256  <bytes/s for 8192-byte blocks>k"
            var line = text.Split('\n').LastOrDefault(l => l.StartsWith("sha256", StringComparison.OrdinalIgnoreCase) || l.StartsWith("SHA256", StringComparison.Ordinal));
            var value = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last().TrimEnd('k');
            return value is null ? null : double.Parse(value, CultureInfo.InvariantCulture) * 1000 / 1e6;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
