using GraphQL;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using Quilt.Gateway.GraphQL;

namespace Quilt.Testing;

/// <summary>
/// Checks GraphQL documents against a schema given as SDL (Quilt's public schema, the gateway's), as a server would
/// before running them. Compiled into the test projects that check operations (linked source: it needs the gateway's
/// scalar types, which the shared test library does not reference).
/// </summary>
internal static class GraphQLValidation
{
    /// <summary>A schema from SDL, enough to validate documents: scalars registered, union members told apart.</summary>
    public static ISchema Schema(string sdl)
    {
        var schema = GraphQL.Types.Schema.For(sdl, b => b.Types.ForAll(t => t.IsTypeOfFunc ??= _ => false));
        schema.RegisterType(new DatetimeGraphType());
        foreach (var name in new[] { "Json", "JsonRecord", "PackageContentsFlatMap", "S3ObjectLocation", "PackageOrdering" })
            schema.RegisterType(new JsonScalarGraphType(name, objectsOnly: false));
        schema.Initialize();
        return schema;
    }

    /// <summary>What is wrong with <paramref name="operation"/> of <paramref name="document"/>; empty when it validates.</summary>
    public static async Task<List<string>> ErrorsAsync(ISchema schema, GraphQLDocument document, GraphQLOperationDefinition operation,
        CancellationToken cancellationToken)
    {
        var result = await new DocumentValidator().ValidateAsync(new ValidationOptions
        {
            Schema = schema,
            Document = document,
            Operation = operation,
            Rules = DocumentValidator.CoreRules,
            Variables = Inputs.Empty,
            RequestServices = null!,
            UserContext = new Dictionary<string, object?>(),
            CancellationToken = cancellationToken,
        });
        // Only the document is checked, not variable values (none are given).
        return result.Errors.Where(e => e is not InvalidVariableError).Select(e => e.Message).ToList();
    }
}
