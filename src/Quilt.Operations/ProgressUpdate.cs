namespace Quilt.Operations;

/// <summary>How far a long operation is: a count done (bytes, usually) out of a total, and a line for a person.</summary>
public readonly record struct ProgressUpdate(double Done, double? Total, string? Message);
