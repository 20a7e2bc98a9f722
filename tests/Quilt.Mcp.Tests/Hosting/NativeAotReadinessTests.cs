using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol.Server;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tests.Hosting;

/// <summary>
/// A Native AOT build of the server (scripts/publish.sh) has no reflection-based JSON: every tool's parameters and
/// structured result must come from source-generated contracts, or the server fails at start. This builds each tool
/// the way the server does, with the reflection fallback taken away, so a missing contract fails here and not in a
/// user's published binary.
/// </summary>
public sealed class NativeAotReadinessTests
{
    public static TheoryData<string> ToolMethods()
    {
        var data = new TheoryData<string>();
        foreach (var method in Quilt.Mcp.Tests.ToolMethods.All())
            data.Add($"{method.DeclaringType!.Name}.{method.Name}");
        return data;
    }

    [Theory]
    [MemberData(nameof(ToolMethods))]
    public void Every_tool_is_described_from_source_generated_contracts(string name)
    {
        var method = Quilt.Mcp.Tests.ToolMethods.All().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);
        var options = WithoutReflection(ToolJson.Options);
        var tool = McpServerTool.Create(method, _ => throw new InvalidOperationException("not called"),
            ToolJson.ToolOptions(serializerOptions: options));

        Assert.Equal(JsonValueKind.Object, tool.ProtocolTool.InputSchema.ValueKind);
    }

    [Fact]
    public void The_check_above_would_see_a_type_without_a_contract()
    {
        // Guards the test itself: with the fallback removed, a type nobody generated a contract for is refused.
        var options = WithoutReflection(ToolJson.Options);
        Assert.NotNull(options.GetTypeInfo(typeof(ObjectInfoResult)));
        Assert.Throws<NotSupportedException>(() => options.GetTypeInfo(typeof(List<Uri[]>)));
    }

    /// <summary>The same options with only the source-generated resolvers (chains nest, so they are flattened first).</summary>
    private static JsonSerializerOptions WithoutReflection(JsonSerializerOptions source)
    {
        var generated = new List<IJsonTypeInfoResolver>();
        Collect(source.TypeInfoResolver!);
        return new JsonSerializerOptions(source) { TypeInfoResolver = JsonTypeInfoResolver.Combine([.. generated]) };

        void Collect(IJsonTypeInfoResolver resolver)
        {
            if (resolver is IEnumerable<IJsonTypeInfoResolver> chain)
            {
                foreach (var inner in chain)
                    Collect(inner);
            }
            else if (resolver is not DefaultJsonTypeInfoResolver)
            {
                generated.Add(resolver);
            }
        }
    }
}
