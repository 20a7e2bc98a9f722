using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>
/// package create with the local registry's .quilt/workflows/config.yml: quilt3's refusals on stderr (exit 1, nothing
/// published), --workflow as a name ('' for none; the old JSON string form still read, with a note), and the recorded
/// workflow object. Expected texts are quilt3 8.0.0's (quilt3/workflows/__init__.py).
/// </summary>
public sealed class WorkflowCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("quilt-cli-wf");
    private readonly string _scratch;
    private readonly CliRunner _cli;
    private readonly string _data;

    public WorkflowCommandTests()
    {
        _scratch = _temp.Path;
        _cli = new CliRunner(Path.Combine(_scratch, "root"));
        _data = Path.Combine(_scratch, "data");
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "a.csv"), "x,y\n1,2\n");
        var workflows = Directory.CreateDirectory(Path.Combine(_cli.Root, "local", ".quilt", "workflows")).FullName;
        var project = Path.Combine(workflows, "project.json");
        File.WriteAllText(project, Quilt.Testing.WorkflowConfigs.ProjectSchema);
        var small = Path.Combine(workflows, "small.json");
        File.WriteAllText(small, Quilt.Testing.WorkflowConfigs.SmallEntriesSchema);
        ConfigPath = Path.Combine(workflows, "config.yml");
        ProjectUrl = PhysicalKey.File(project).ToString();
        File.WriteAllText(ConfigPath, Quilt.Testing.WorkflowConfigs.Config(ProjectUrl, PhysicalKey.File(small).ToString(), defaultWorkflow: "beta"));
    }

    private string ConfigPath { get; }

    private string ProjectUrl { get; }

    public void Dispose() => _temp.Dispose();

    private async Task AssertRefusedAsync(string expected, params string[] args)
    {
        var result = await _cli.RunAsync(["package", "create", "team/data", _data, .. args]);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: " + expected, result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "local", ".quilt", "named_packages", "team", "data")), "a refused revision was published");
    }

    [Fact]
    public async Task Create_refuses_what_the_workflow_refuses_and_publishes_nothing()
    {
        // The default workflow (beta) needs metadata with a project.
        await AssertRefusedAsync("Metadata failed validation: 'project' is a required property.", "-m", "first", "--meta", "{\"year\": 2024}");
        await AssertRefusedAsync("Commit message is required by workflow, but none was provided.", "--workflow", "alpha");
        await AssertRefusedAsync("There is no 'omega' workflow in config.", "--workflow", "omega");
        await AssertRefusedAsync("Workflow required, but none specified.", "--workflow", "");
    }

    [Fact]
    public async Task Create_records_the_default_workflow_with_the_config_and_schema_it_read()
    {
        var created = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/data", _data, "-m", "first", "--meta", "{\"project\": \"p\"}", "--json"))!;
        var manifest = Path.Combine(_cli.Root, "local", ".quilt", "packages", created["top_hash"]!.GetValue<string>());
        var line = JsonNode.Parse(File.ReadLines(manifest).First())!;
        Assert.Equal($$$"""{"id":"beta","config":"{{{PhysicalKey.File(ConfigPath)}}}","schemas":{"project":"{{{ProjectUrl}}}"}}""", line["workflow"]!.ToJsonString());
    }

    [Fact]
    public async Task Workflow_is_a_name_and_the_old_json_string_form_still_works_with_a_note()
    {
        var result = await _cli.RunAsync("package", "create", "team/data", _data, "-m", "first", "--workflow", "\"alpha\"", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--workflow takes a plain name now; write --workflow alpha", result.Stderr, StringComparison.Ordinal);
        var manifest = Path.Combine(_cli.Root, "local", ".quilt", "packages", JsonNode.Parse(result.Stdout)!["top_hash"]!.GetValue<string>());
        Assert.Equal("alpha", JsonNode.Parse(File.ReadLines(manifest).First())!["workflow"]!["id"]!.GetValue<string>());

        var objectForm = await _cli.RunAsync("package", "create", "team/other", _data, "-m", "x", "--workflow", "{\"id\": \"alpha\"}");
        Assert.Equal(1, objectForm.ExitCode);
        Assert.Contains("--workflow takes a workflow name", objectForm.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_config_a_named_workflow_is_refused()
    {
        File.Delete(ConfigPath);
        await AssertRefusedAsync("'alpha' workflow is specified, but no workflows config exist.", "-m", "m", "--workflow", "alpha");
        var created = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/data", _data, "-m", "m", "--json"))!;
        var manifest = Path.Combine(_cli.Root, "local", ".quilt", "packages", created["top_hash"]!.GetValue<string>());
        Assert.Null(JsonNode.Parse(File.ReadLines(manifest).First())!["workflow"]);
    }
}
