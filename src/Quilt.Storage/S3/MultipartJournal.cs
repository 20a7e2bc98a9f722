using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quilt.Storage.S3;

/// <summary>A multipart upload a process of this machine started and had not completed or aborted when it last wrote.</summary>
public sealed record JournaledUpload(
    string Endpoint, string Bucket, string Key, string UploadId, DateTimeOffset Started, int ProcessId, DateTimeOffset? ProcessStarted, bool Orphaned)
{
    /// <summary>The journal file that records it.</summary>
    public string File { get; init; } = "";
}

/// <summary>
/// The multipart uploads this machine's processes have in progress, one small JSON file each in a folder of the user's
/// state (<see cref="DefaultFolder"/>). A process killed mid-upload (kill -9, a crash, the machine going down) cannot
/// abort its upload, whose parts S3 keeps (and bills) until told otherwise; its file stays, and the next process that
/// uses S3 at that endpoint aborts the upload once the process that started it is gone. So does an upload whose abort
/// failed (an S3 outage): its file is marked orphaned.
/// Files hold where the upload goes and who started it, never credentials.
/// </summary>
public sealed class MultipartJournal
{
    private const string Extension = ".json";

    public MultipartJournal(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Folder = Path.GetFullPath(folder);
    }

    public string Folder { get; }

    /// <summary>$XDG_STATE_HOME/quilt-mcp/uploads, else ~/.local/state/quilt-mcp/uploads.</summary>
    public static string DefaultFolder
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
            var state = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathFullyQualified(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
            return Path.Combine(state, "quilt-mcp", "uploads");
        }
    }

    /// <summary>Records an upload this process started; returns its file, or null when the journal cannot be written (the upload goes on).</summary>
    public string? Record(string endpoint, string bucket, string key, string uploadId)
    {
        using var self = Process.GetCurrentProcess();
        var entry = new JournaledUpload(endpoint, bucket, key, uploadId, DateTimeOffset.UtcNow, Environment.ProcessId, StartTimeOf(self), Orphaned: false);
        var file = Path.Join(Folder, $"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}{Extension}");
        return TryWrite(file, entry) ? file : null;
    }

    /// <summary>Marks a recorded upload as one to abort whatever its process (its own abort failed).</summary>
    public void MarkOrphaned(string file)
    {
        if (TryRead(file) is { } entry)
            TryWrite(file, entry with { Orphaned = true });
    }

    /// <summary>Forgets a recorded upload (it completed or was aborted).</summary>
    public static void Remove(string? file)
    {
        if (file is null)
            return;
        try
        {
            System.IO.File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover entry is aborted by a later sweep, which finds the upload gone and drops it.
        }
    }

    /// <summary>Every recorded upload; files that cannot be read are skipped.</summary>
    public IReadOnlyList<JournaledUpload> ReadAll()
    {
        try
        {
            if (!Directory.Exists(Folder))
                return [];
            return Directory.EnumerateFiles(Folder, "*" + Extension).Select(TryRead).OfType<JournaledUpload>().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The recorded uploads to <paramref name="endpoint"/> that nobody will finish: orphaned, or started by a process that is gone.</summary>
    public IReadOnlyList<JournaledUpload> Abandoned(string endpoint) =>
        ReadAll().Where(u => u.Endpoint == endpoint && (u.Orphaned || !IsRunning(u.ProcessId, u.ProcessStarted))).ToList();

    /// <summary>Whether the process that wrote an entry still runs: the same id and (a reused id aside) the same start time.</summary>
    internal static bool IsRunning(int processId, DateTimeOffset? started)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            if (process.HasExited)
                return false;
            return started is not { } recorded || StartTimeOf(process) is not { } now || (now - recorded).Duration() < TimeSpan.FromSeconds(5);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static DateTimeOffset? StartTimeOf(Process process)
    {
        try
        {
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private bool TryWrite(string file, JournaledUpload entry)
    {
        var json = new JsonObject
        {
            ["endpoint"] = entry.Endpoint,
            ["bucket"] = entry.Bucket,
            ["key"] = entry.Key,
            ["uploadId"] = entry.UploadId,
            ["started"] = entry.Started.ToString("O", CultureInfo.InvariantCulture),
            ["pid"] = entry.ProcessId,
            ["processStarted"] = entry.ProcessStarted?.ToString("O", CultureInfo.InvariantCulture),
            ["orphaned"] = entry.Orphaned,
        };
        var temp = file + ".tmp";
        try
        {
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(Folder);
            else
                Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            System.IO.File.WriteAllText(temp, json.ToJsonString(), Encoding.UTF8);
            // Whole or absent: a reader never sees half an entry.
            System.IO.File.Move(temp, file, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Remove(temp);
            return false;
        }
    }

    private static JournaledUpload? TryRead(string file)
    {
        try
        {
            if (JsonNode.Parse(System.IO.File.ReadAllText(file)) is not JsonObject json
                || Text(json, "endpoint") is not { } endpoint || Text(json, "bucket") is not { } bucket || Text(json, "key") is not { } key
                || Text(json, "uploadId") is not { } uploadId || Time(Text(json, "started")) is not { } started
                || json["pid"] is not JsonValue pidValue || !pidValue.TryGetValue(out int pid))
            {
                return null;
            }
            var orphaned = json["orphaned"] is JsonValue o && o.TryGetValue(out bool flag) && flag;
            return new JournaledUpload(endpoint, bucket, key, uploadId, started, pid, Time(Text(json, "processStarted")), orphaned) { File = file };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) ? time : null;
}
