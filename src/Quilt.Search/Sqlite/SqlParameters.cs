using Microsoft.Data.Sqlite;

namespace Quilt.Search.Sqlite;

/// <summary>The parameters of one SQL statement being built: every value goes in as a parameter, never into the text.</summary>
internal sealed class SqlParameters
{
    private readonly List<(string Name, object Value)> _values = [];

    /// <summary>Adds a value and returns its placeholder.</summary>
    public string Add(object value)
    {
        var name = "$p" + _values.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _values.Add((name, value));
        return name;
    }

    public void ApplyTo(SqliteCommand command)
    {
        foreach (var (name, value) in _values)
            command.Parameters.AddWithValue(name, value);
    }
}
