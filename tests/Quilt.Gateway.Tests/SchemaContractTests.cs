using GraphQLParser;
using GraphQLParser.AST;
using Quilt.Gateway.GraphQL;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>
/// The gateway's SDL keeps Quilt's names and shapes: part 1 (Quilt's types) matches Quilt's public schema type for type,
/// part 2 only adds names Quilt does not have, and the operations a Quilt client sends validate against both.
/// </summary>
public sealed class SchemaContractTests
{
    private static readonly string QuiltSdl = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "quilt-schema.graphql"));
    private static readonly string GatewaySdl = GatewaySchema.ReadSdl();

    private static (string Shared, string Additions) SplitGateway()
    {
        var marker = GatewaySdl.IndexOf("\n# GATEWAY ADDITIONS:", StringComparison.Ordinal);
        Assert.True(marker > 0, "schema.graphql has lost its GATEWAY ADDITIONS marker line.");
        var cut = GatewaySdl.LastIndexOf("# ====", marker, StringComparison.Ordinal);
        return (GatewaySdl[..cut], GatewaySdl[cut..]);
    }

    [Fact]
    public void The_served_sdl_is_the_file_in_the_source_tree()
    {
        var copy = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "gateway-schema.graphql"));
        Assert.Equal(copy.ReplaceLineEndings(), GatewaySdl.ReplaceLineEndings());
    }

    [Fact]
    public void Every_shared_type_field_and_argument_matches_quilts_schema()
    {
        var quilt = Parser.Parse(QuiltSdl).Definitions.OfType<GraphQLTypeDefinition>().ToDictionary(d => (string)d.Name.Value);
        var quiltDirectives = Parser.Parse(QuiltSdl).Definitions.OfType<GraphQLDirectiveDefinition>().Select(d => (string)d.Name.Value).ToHashSet();
        var problems = new List<string>();
        var shared = Parser.Parse(SplitGateway().Shared);
        foreach (var definition in shared.Definitions)
        {
            if (definition is GraphQLDirectiveDefinition directive)
            {
                if (!quiltDirectives.Contains((string)directive.Name.Value))
                    problems.Add($"directive @{directive.Name.Value} is not in Quilt's schema");
                continue;
            }
            if (definition is not GraphQLTypeDefinition type)
            {
                problems.Add($"part 1 holds a {definition.Kind}; additions belong after the marker");
                continue;
            }
            var name = (string)type.Name.Value;
            if (!quilt.TryGetValue(name, out var theirs))
            {
                problems.Add($"{name} is not in Quilt's schema: move it to the additions");
                continue;
            }
            if (theirs.Kind != type.Kind)
            {
                problems.Add($"{name} is a {type.Kind} here but a {theirs.Kind} in Quilt's schema");
                continue;
            }
            switch (type)
            {
                case GraphQLObjectTypeDefinition o:
                    CompareFields(name, o.Fields?.Items ?? [], ((GraphQLObjectTypeDefinition)theirs).Fields?.Items ?? [], problems);
                    break;
                case GraphQLInputObjectTypeDefinition i:
                    var mine = (i.Fields?.Items ?? []).Select(f => $"{f.Name.Value}: {Print(f.Type)}{Default(f.DefaultValue)}").Order(StringComparer.Ordinal);
                    var their = (((GraphQLInputObjectTypeDefinition)theirs).Fields?.Items ?? []).Select(f => $"{f.Name.Value}: {Print(f.Type)}{Default(f.DefaultValue)}").Order(StringComparer.Ordinal);
                    if (!mine.SequenceEqual(their))
                        problems.Add($"input {name} differs: here [{string.Join(", ", mine)}], Quilt [{string.Join(", ", their)}]");
                    break;
                case GraphQLUnionTypeDefinition u:
                    var members = (u.Types?.Items ?? []).Select(t => (string)t.Name.Value).Order(StringComparer.Ordinal);
                    var theirMembers = (((GraphQLUnionTypeDefinition)theirs).Types?.Items ?? []).Select(t => (string)t.Name.Value).Order(StringComparer.Ordinal);
                    if (!members.SequenceEqual(theirMembers))
                        problems.Add($"union {name} differs: here {string.Join(" | ", members)}, Quilt {string.Join(" | ", theirMembers)}");
                    break;
                case GraphQLEnumTypeDefinition e:
                    var values = (e.Values?.Items ?? []).Select(v => (string)v.Name.Value).Order(StringComparer.Ordinal);
                    var theirValues = (((GraphQLEnumTypeDefinition)theirs).Values?.Items ?? []).Select(v => (string)v.Name.Value).Order(StringComparer.Ordinal);
                    if (!values.SequenceEqual(theirValues))
                        problems.Add($"enum {name} differs");
                    break;
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void The_additions_only_add_names_quilt_does_not_have()
    {
        var quiltDocument = Parser.Parse(QuiltSdl);
        var quiltTypes = quiltDocument.Definitions.OfType<GraphQLTypeDefinition>().ToDictionary(d => (string)d.Name.Value);
        var additions = Parser.Parse(SplitGateway().Additions);
        var problems = new List<string>();
        foreach (var definition in additions.Definitions)
        {
            switch (definition)
            {
                case GraphQLTypeDefinition type when quiltTypes.ContainsKey(type.Name.Value.ToString()):
                    problems.Add($"{type.Name.Value} is redefined in the additions, but Quilt's schema already has it");
                    break;
                case GraphQLObjectTypeExtension extension:
                    var root = (GraphQLObjectTypeDefinition)quiltTypes[(string)extension.Name.Value];
                    var existing = (root.Fields?.Items ?? []).Select(f => (string)f.Name.Value).ToHashSet();
                    foreach (var field in extension.Fields?.Items ?? [])
                    {
                        if (existing.Contains((string)field.Name.Value))
                            problems.Add($"{extension.Name.Value}.{field.Name.Value} is added, but Quilt's schema already has a field by that name");
                    }
                    break;
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // The seed's mutation, in its exact shape.
        Assert.Contains("generateUploadUrl(\n    bucket: String!\n    key: String!\n    contentType: String\n  ): UploadUrlResult!", GatewaySdl.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_uploads_the_schema_has_no_upload_mutation_and_keeps_the_rest()
    {
        var stock = Parser.Parse(GatewaySchema.WithoutUploadMutations(GatewaySdl));
        var mutations = stock.Definitions.OfType<GraphQLObjectTypeExtension>().Where(e => e.Name.Value == "Mutation")
            .SelectMany(e => e.Fields?.Items ?? []).Select(f => (string)f.Name.Value).ToList();
        Assert.Empty(mutations.Intersect(GatewaySchema.UploadMutations));
        Assert.Contains("browsingSessionLink", mutations);
        Assert.Contains(stock.Definitions.OfType<GraphQLObjectTypeDefinition>(), t => t.Name.Value == "Mutation"
            && t.Fields!.Items.Any(f => f.Name.Value == "packageConstruct"));
    }

    public static TheoryData<string> Operations => new(OperationNames());

    private static IEnumerable<string> OperationNames() =>
        Parser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "quilt-operations.graphql")))
            .Definitions.OfType<GraphQLOperationDefinition>().Select(o => (string)o.Name!.Value);

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Quilt_client_operations_validate_against_both_schemas(string operationName)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "quilt-operations.graphql"));
        foreach (var (label, sdl) in new[] { ("Quilt's schema", QuiltSdl), ("the gateway's schema", GatewaySdl) })
        {
            var schema = GraphQLValidation.Schema(sdl);
            var document = Parser.Parse(text);
            var operation = document.Definitions.OfType<GraphQLOperationDefinition>().Single(o => o.Name!.Value == operationName);
            var single = new GraphQLDocument([operation, .. document.Definitions.OfType<GraphQLFragmentDefinition>()]);
            var errors = await GraphQLValidation.ErrorsAsync(schema, single, operation, TestContext.Current.CancellationToken);
            Assert.True(errors.Count == 0, $"{operationName} does not validate against {label}: {string.Join("; ", errors)}");
        }
    }

    private static void CompareFields(string type, IEnumerable<GraphQLFieldDefinition> mine, IEnumerable<GraphQLFieldDefinition> theirs, List<string> problems)
    {
        var their = theirs.ToDictionary(f => (string)f.Name.Value);
        foreach (var field in mine)
        {
            var name = (string)field.Name.Value;
            if (!their.TryGetValue(name, out var other))
            {
                problems.Add($"{type}.{name} is not in Quilt's schema");
                continue;
            }
            if (Print(field.Type) != Print(other.Type))
                problems.Add($"{type}.{name} is {Print(field.Type)} here but {Print(other.Type)} in Quilt's schema");
            var args = Arguments(field);
            var theirArgs = Arguments(other);
            if (args != theirArgs)
                problems.Add($"{type}.{name} takes ({args}) here but ({theirArgs}) in Quilt's schema");
        }
    }

    private static string Arguments(GraphQLFieldDefinition field) =>
        string.Join(", ", (field.Arguments?.Items ?? []).Select(a => $"{a.Name.Value}: {Print(a.Type)}{Default(a.DefaultValue)}"));

    private static string Print(GraphQLType type) => type switch
    {
        GraphQLNonNullType n => Print(n.Type) + "!",
        GraphQLListType l => "[" + Print(l.Type) + "]",
        GraphQLNamedType named => (string)named.Name.Value,
        _ => type.Kind.ToString(),
    };

    private static string Default(GraphQLValue? value) => value switch
    {
        null => "",
        GraphQLStringValue s => $" = \"{s.Value}\"",
        GraphQLIntValue i => $" = {i.Value}",
        GraphQLFloatValue f => $" = {f.Value}",
        GraphQLBooleanValue b => $" = {b.Value}",
        GraphQLEnumValue e => $" = {e.Name.Value}",
        GraphQLNullValue => " = null",
        _ => " = " + value.Kind,
    };
}
