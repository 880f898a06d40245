"""The official MCP Python SDK (PyPI `mcp`) as a client no one here wrote: it spawns `auren mcp --db DB`,
lists the tools and calls a few, and checks what comes back. Run by crates/auren-cli/tests/it/mcp.rs.

usage: python client.py AUREN_BINARY DATABASE
Prints one JSON summary line on success; exits 1 with the reason on stderr otherwise.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, stdio_client

EXPECTED_TOOLS = {
    "get_readiness", "get_trend", "list_sessions", "get_session", "get_alerts", "compare_periods",
    "tag_effect", "recall", "remember", "retract", "propose_hypothesis", "list_hypotheses",
}


def fail(message):
    print(f"mcp client: {message}", file=sys.stderr)
    sys.exit(1)


def body_of(result, tool):
    if result.is_error:
        fail(f"{tool} answered a tool error: {result.content}")
    structured = result.structured_content
    text = json.loads(result.content[0].text)
    if structured != text:
        fail(f"{tool}: structured content and text content differ")
    if set(structured) != {"result", "receipts"}:
        fail(f"{tool}: expected result and receipts, got {sorted(structured)}")
    return structured


async def main(binary, database):
    params = StdioServerParameters(command=binary, args=["mcp", "--db", database])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            if init.server_info.name != "auren":
                fail(f"server name {init.server_info.name!r}, expected 'auren'")
            listed = await session.list_tools()
            names = {tool.name for tool in listed.tools}
            if names != EXPECTED_TOOLS:
                fail(f"tools {sorted(names)}, expected {sorted(EXPECTED_TOOLS)}")
            for tool in listed.tools:
                if tool.input_schema.get("type") != "object" or not tool.description:
                    fail(f"{tool.name}: schema type {tool.input_schema.get('type')!r}, description {tool.description!r}")

            trend = body_of(await session.call_tool("get_trend", {}), "get_trend")
            if not trend["receipts"]:
                fail("get_trend over stored mornings returned no receipt")
            sessions = body_of(await session.call_tool("list_sessions", {"limit": 5}), "list_sessions")
            listed_sessions = sessions["result"].get("sessions")
            if not isinstance(listed_sessions, list) or not listed_sessions:
                fail(f"list_sessions returned no sessions: {sessions['result']}")

            missing = await session.call_tool("get_session", {"id": 987654321})
            if not missing.is_error:
                fail("get_session of a missing id did not answer a tool error")
            print(json.dumps({
                "tools": len(names),
                "trend_receipts": len(trend["receipts"]),
                "sessions": len(listed_sessions),
            }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: client.py AUREN_BINARY DATABASE")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
