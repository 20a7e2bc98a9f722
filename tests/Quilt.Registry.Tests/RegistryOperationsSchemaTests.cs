using GraphQL.Types;
using GraphQLParser;
using GraphQLParser.AST;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// Every GraphQL document the registry mode sends validates against Quilt's public schema, so it works against a real
/// Quilt registry; the documented gateway additions validate against quilt-gateway's schema (and are known not to be
/// Quilt's).
/// </summary>
public sealed class RegistryOperationsSchemaTests
{
    private static readonly string QuiltSdl = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "quilt-schema.graphql"));
    private static readonly string GatewaySdl = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "gateway-schema.graphql"));
    private static readonly Lazy<ISchema> Quilt = new(() => GraphQLValidation.Schema(QuiltSdl));
    private static readonly Lazy<ISchema> Gateway = new(() => GraphQLValidation.Schema(GatewaySdl));

    public static TheoryData<string> QuiltOperations => new(RegistryOperations.Quilt.Keys);
    public static TheoryData<string> GatewayOperations => new(RegistryOperations.GatewayAdditions.Keys);

    [Theory]
    [MemberData(nameof(QuiltOperations))]
    public async Task Operations_of_quilts_api_validate_against_quilts_schema(string name)
    {
        Assert.Empty(await ErrorsAsync(Quilt.Value, RegistryOperations.Quilt[name]));
        // The gateway serves the same names and types.
        Assert.Empty(await ErrorsAsync(Gateway.Value, RegistryOperations.Quilt[name]));
    }

    [Theory]
    [MemberData(nameof(GatewayOperations))]
    public async Task Gateway_additions_validate_against_the_gateways_schema_and_not_quilts(string name)
    {
        Assert.Empty(await ErrorsAsync(Gateway.Value, RegistryOperations.GatewayAdditions[name]));
        // Listed as additions because Quilt's schema lacks them; if Quilt gains one, move it to the Quilt list.
        Assert.NotEmpty(await ErrorsAsync(Quilt.Value, RegistryOperations.GatewayAdditions[name]));
    }

    [Fact]
    public void Every_operation_the_client_declares_is_in_one_of_the_lists()
    {
        var declared = typeof(RegistryOperations).GetFields().Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => f.Name).ToHashSet();
        var listed = RegistryOperations.Quilt.Keys.Concat(RegistryOperations.GatewayAdditions.Keys).ToHashSet();
        Assert.Equal(declared.Order(), listed.Order());
    }

    private static Task<List<string>> ErrorsAsync(ISchema schema, string text)
    {
        var document = Parser.Parse(text);
        return GraphQLValidation.ErrorsAsync(schema, document, document.Definitions.OfType<GraphQLOperationDefinition>().Single(),
            TestContext.Current.CancellationToken);
    }
}
