// Placeholder replaced by the live-check implementation.
export async function runLiveCheck(
  _opts: { configPath?: string; region?: string; profile?: string; endpoint?: string },
  _out: (line: string) => void,
): Promise<number> {
  throw new Error('check-config --live is not implemented yet');
}
