using Quilt.Mcp.Configuration;

namespace Quilt.Mcp.Tests.Elicitation;

/// <summary>The size over which an upload asks the user first: 1 GiB, or QUILT_MCP_CONFIRM_UPLOAD_BYTES.</summary>
public sealed class ConfirmUploadSettingTests
{
    private static ResolvedSettings Resolve(string? value) =>
        ServerSettingsResolver.Resolve(new ServeInput { Connection = new ServeInput().Connection with { Storage = "local" } },
            name => name == ServerSettingsResolver.ConfirmUploadBytesVariable ? value : null);

    [Fact]
    public void TheThresholdIsOneGibibyteUnlessTheVariableSaysOtherwise()
    {
        Assert.Equal(1L << 30, Resolve(null).Settings!.ConfirmUploadBytes);
        Assert.Equal(10L * 1024 * 1024, Resolve("10MiB").Settings!.ConfirmUploadBytes);
        var bad = Resolve("lots");
        Assert.False(bad.IsValid);
        Assert.Contains(bad.Errors, e => e.Contains("QUILT_MCP_CONFIRM_UPLOAD_BYTES 'lots' is not a size", StringComparison.Ordinal));
    }
}
