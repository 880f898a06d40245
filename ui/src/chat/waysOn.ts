// The ways on after a budget refusal, as actions: keep the offline analyst's answer, switch the chat to a
// local model (an alias whose every route goes to a provider on this machine: free, so no budget refuses
// it), or raise the budget in Settings → AI. Pure: the view calls the backend.

/** Where "raise the budget" goes: the AI pane of Settings, where budgets are set. */
export const AI_SETTINGS_ROUTE = "#/settings/ai";

/** A provider and an alias as the AI settings list them (the generated ProviderDto/AliasDto, narrowed). */
export interface ProviderPlace {
  name: string;
  local: boolean;
}
export interface AliasRoutes {
  name: string;
  routes: { provider: string }[];
}

/** The first alias whose routes all go to local providers; null when there is none (the way on is then not
 * offered). An alias with no routes answers nothing, so it is not one. */
export function localAlias(providers: readonly ProviderPlace[], aliases: readonly AliasRoutes[]): string | null {
  const local = new Set(providers.filter((p) => p.local).map((p) => p.name));
  const found = aliases.find((a) => a.routes.length > 0 && a.routes.every((r) => local.has(r.provider)));
  return found?.name ?? null;
}
