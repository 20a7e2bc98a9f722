namespace Quilt.Mcp;
