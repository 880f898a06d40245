//! The Tauri commands: each is one line into [`auren_desktop::Desktop`] (or a plugin or the `open`
//! crate, for the shell's own dialogs and folders). Errors reach the UI as `{code, message}`.

use auren_desktop::chat_dto::*;
use auren_desktop::dto::*;
use auren_desktop::sync_dto;
use auren_desktop::{Desktop, IpcError};
use auren_engine::dto::{LiveUpdateDto, MorningResultDto, ReadinessDto, SessionSummaryDto};
use std::path::PathBuf;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use crate::Painted;

type Answer<T> = Result<T, IpcError>;

fn sink(channel: Channel<LiveUpdateDto>) -> auren_desktop::UpdateSink {
    Box::new(move |update| channel.send(update).is_ok())
}

#[tauri::command]
#[specta::specta]
pub fn app_info(desktop: State<'_, Desktop>) -> Answer<AppInfoDto> {
    Ok(desktop.app_info())
}

#[tauri::command]
#[specta::specta]
pub async fn bluetooth_status(desktop: State<'_, Desktop>) -> Answer<BluetoothDto> {
    Ok(desktop.bluetooth_status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn scan_straps(desktop: State<'_, Desktop>, seconds: u32) -> Answer<Vec<FoundStrapDto>> {
    Ok(desktop.scan_straps(seconds).await?)
}

#[tauri::command]
#[specta::specta]
pub fn remembered_straps(desktop: State<'_, Desktop>) -> Answer<Vec<RememberedStrapDto>> {
    Ok(desktop.remembered_straps())
}

#[tauri::command]
#[specta::specta]
pub fn remember_strap(
    desktop: State<'_, Desktop>,
    address: String,
    name: String,
) -> Answer<Vec<RememberedStrapDto>> {
    Ok(desktop.remember_strap(&address, &name)?)
}

#[tauri::command]
#[specta::specta]
pub fn forget_strap(desktop: State<'_, Desktop>, address: String) -> Answer<Vec<RememberedStrapDto>> {
    Ok(desktop.forget_strap(&address)?)
}

#[tauri::command]
#[specta::specta]
pub async fn start_live(
    desktop: State<'_, Desktop>,
    source: SourceChoiceDto,
    kind: SessionKindDto,
    on_update: Channel<LiveUpdateDto>,
) -> Answer<LiveStartedDto> {
    Ok(desktop.start_live(source, kind, sink(on_update)).await?)
}

/// Streams the chosen source's updates to the window before a session starts (nothing is stored).
#[tauri::command]
#[specta::specta]
pub async fn monitor_live(
    desktop: State<'_, Desktop>,
    source: SourceChoiceDto,
    on_update: Channel<LiveUpdateDto>,
) -> Answer<MonitorDto> {
    Ok(desktop.monitor_live(source, sink(on_update)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn stop_monitor(desktop: State<'_, Desktop>) -> Answer<()> {
    desktop.stop_monitor().await;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn monitor_status(desktop: State<'_, Desktop>) -> Answer<Option<MonitorDto>> {
    Ok(desktop.monitor_status().await)
}

/// Re-attaches a (reloaded) window to the running session's updates.
#[tauri::command]
#[specta::specta]
pub async fn watch_live(
    desktop: State<'_, Desktop>,
    on_update: Channel<LiveUpdateDto>,
) -> Answer<LiveStartedDto> {
    Ok(desktop.watch_live(sink(on_update)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn live_status(desktop: State<'_, Desktop>) -> Answer<Option<LiveStartedDto>> {
    Ok(desktop.live_status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn stop_live(desktop: State<'_, Desktop>) -> Answer<SessionSummaryDto> {
    Ok(desktop.stop_live().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn tag_live(desktop: State<'_, Desktop>, tag: String) -> Answer<()> {
    Ok(desktop.tag_live(&tag).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn start_morning(
    desktop: State<'_, Desktop>,
    source: SourceChoiceDto,
    on_update: Channel<LiveUpdateDto>,
) -> Answer<MorningResultDto> {
    Ok(desktop.start_morning(source, sink(on_update)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn readiness_today(desktop: State<'_, Desktop>) -> Answer<ReadinessDto> {
    Ok(desktop.readiness_today().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn daily_trend(desktop: State<'_, Desktop>, days: u32) -> Answer<Vec<ReadinessDto>> {
    Ok(desktop.daily_trend(days).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_sessions(
    desktop: State<'_, Desktop>,
    limit: u32,
    offset: u32,
) -> Answer<Vec<SessionListItemDto>> {
    Ok(desktop.list_sessions(limit, offset).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn history_owners(desktop: State<'_, Desktop>) -> Answer<Vec<HistoryOwnerDto>> {
    Ok(desktop.history_owners().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn athlete_sessions(
    desktop: State<'_, Desktop>,
    athlete: String,
    limit: u32,
    offset: u32,
) -> Answer<Vec<SessionListItemDto>> {
    Ok(desktop.athlete_sessions(athlete, limit, offset).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn athlete_daily_trend(
    desktop: State<'_, Desktop>,
    athlete: String,
    days: u32,
) -> Answer<Vec<ReadinessDto>> {
    Ok(desktop.athlete_daily_trend(athlete, days).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn session_detail(desktop: State<'_, Desktop>, id: i64) -> Answer<SessionViewDto> {
    Ok(desktop.session_detail(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn session_annotations(desktop: State<'_, Desktop>, id: i64) -> Answer<SessionAnnotationsDto> {
    Ok(desktop.session_annotations(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn edit_tag(desktop: State<'_, Desktop>, id: i64, edit: TagEditDto) -> Answer<()> {
    Ok(desktop.edit_tag(id, edit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_tag(desktop: State<'_, Desktop>, id: i64) -> Answer<()> {
    Ok(desktop.delete_tag(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_session_note(desktop: State<'_, Desktop>, id: i64, note: String) -> Answer<()> {
    Ok(desktop.set_session_note(id, &note).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn session_charts(desktop: State<'_, Desktop>, id: i64) -> Answer<SessionChartsDto> {
    Ok(desktop.session_charts(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_rules(desktop: State<'_, Desktop>) -> Answer<RulesDto> {
    Ok(desktop.rules_text().await?)
}

#[tauri::command]
#[specta::specta]
pub fn check_rules(desktop: State<'_, Desktop>, text: String) -> Answer<Vec<RuleProblemDto>> {
    Ok(desktop.check_rules(&text))
}

#[tauri::command]
#[specta::specta]
pub async fn save_rules(desktop: State<'_, Desktop>, text: String) -> Answer<RulesDto> {
    Ok(desktop.save_rules(&text).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn reset_rules(desktop: State<'_, Desktop>) -> Answer<RulesDto> {
    Ok(desktop.reset_rules().await?)
}

#[tauri::command]
#[specta::specta]
pub fn get_settings(desktop: State<'_, Desktop>) -> Answer<SettingsDto> {
    Ok(desktop.get_settings())
}

#[tauri::command]
#[specta::specta]
pub async fn save_settings(desktop: State<'_, Desktop>, settings: SettingsDto) -> Answer<SettingsDto> {
    Ok(desktop.save_settings(settings).await?)
}

/// The native file dialog, so the import needs no file-system permission in the webview.
#[tauri::command]
#[specta::specta]
pub async fn choose_import_file(app: AppHandle) -> Answer<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .add_filter("Recordings", &["rr", "txt", "csv", "hrmcap"])
        .pick_file(move |path| {
            let _ = tx.send(
                path.and_then(|p| p.into_path().ok())
                    .map(|p| p.display().to_string()),
            );
        });
    Ok(rx.await.ok().flatten())
}

#[tauri::command]
#[specta::specta]
pub async fn import_recording(desktop: State<'_, Desktop>, path: String) -> Answer<ImportedDto> {
    Ok(desktop.import_recording(&PathBuf::from(path)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn export_session(
    desktop: State<'_, Desktop>,
    id: i64,
    format: ExportFormat,
) -> Answer<ExportedDto> {
    Ok(desktop.export_session(id, format).await?)
}

#[tauri::command]
#[specta::specta]
pub fn open_log_folder(desktop: State<'_, Desktop>) -> Answer<()> {
    open_folder(desktop.log_dir())
}

#[tauri::command]
#[specta::specta]
pub fn open_export_folder(desktop: State<'_, Desktop>) -> Answer<()> {
    open_folder(desktop.export_dir())
}

fn open_folder(dir: PathBuf) -> Answer<()> {
    // Opening a folder that was never written to would fail: create it first. `open` hands it to the
    // desktop's opener (xdg-open, gio, …) and does not wait for it.
    let _ = std::fs::create_dir_all(&dir);
    open::that_detached(&dir).map_err(|e| IpcError {
        code: auren_desktop::ErrorCode::Internal,
        message: format!("cannot open {}: {e}", dir.display()),
    })
}

/// The UI's first frame is on screen: logged for the cold-start benchmark (which exits here).
#[tauri::command]
#[specta::specta]
pub fn mark_painted(app: AppHandle, painted: State<'_, Painted>) -> Answer<()> {
    painted.mark(&app);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_status(desktop: State<'_, Desktop>) -> Answer<sync_dto::SyncStatusDto> {
    Ok(desktop.sync_status().await?)
}

/// Sends the sync status now and on every change (the header chip).
#[tauri::command]
#[specta::specta]
pub async fn watch_sync(
    desktop: State<'_, Desktop>,
    on_status: Channel<sync_dto::SyncStatusDto>,
) -> Answer<sync_dto::SyncStatusDto> {
    Ok(desktop
        .watch_sync(Box::new(move |s| on_status.send(s).is_ok()))
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_sign_in(
    desktop: State<'_, Desktop>,
    form: sync_dto::SignInDto,
) -> Answer<sync_dto::SyncStatusDto> {
    Ok(desktop.sync_sign_in(form).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_device_code_start(
    desktop: State<'_, Desktop>,
    server: String,
    device_name: String,
) -> Answer<sync_dto::DeviceCodeDto> {
    Ok(desktop.sync_device_code_start(server, device_name).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_device_code_poll(desktop: State<'_, Desktop>) -> Answer<sync_dto::DeviceCodeStateDto> {
    Ok(desktop.sync_device_code_poll().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_approve_device(desktop: State<'_, Desktop>, user_code: String) -> Answer<()> {
    Ok(desktop.sync_approve_device(user_code).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_now(desktop: State<'_, Desktop>) -> Answer<sync_dto::SyncReportDto> {
    Ok(desktop.sync_now().await?)
}

/// Queues the parked rows again and runs a round (Settings → Sync, "Retry parked rows").
#[tauri::command]
#[specta::specta]
pub async fn sync_retry_parked(desktop: State<'_, Desktop>) -> Answer<sync_dto::SyncStatusDto> {
    Ok(desktop.sync_retry_parked().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_devices(desktop: State<'_, Desktop>) -> Answer<Vec<sync_dto::DeviceDto>> {
    Ok(desktop.sync_devices().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_remove_device(
    desktop: State<'_, Desktop>,
    device_id: String,
) -> Answer<Vec<sync_dto::DeviceDto>> {
    Ok(desktop.sync_remove_device(device_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_coach_access(desktop: State<'_, Desktop>) -> Answer<sync_dto::CoachAccessDto> {
    Ok(desktop.sync_coach_access().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_grant_coach(
    desktop: State<'_, Desktop>,
    email: String,
) -> Answer<sync_dto::CoachAccessDto> {
    Ok(desktop.sync_grant_coach(email).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_revoke_coach(
    desktop: State<'_, Desktop>,
    email: String,
) -> Answer<sync_dto::CoachAccessDto> {
    Ok(desktop.sync_revoke_coach(email).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_sign_out(desktop: State<'_, Desktop>) -> Answer<sync_dto::SyncStatusDto> {
    Ok(desktop.sync_sign_out().await?)
}

/// Starts a chat turn; its events stream over `on_event` until `done` or `error`.
#[tauri::command]
#[specta::specta]
pub async fn chat_send(
    desktop: State<'_, Desktop>,
    request: ChatSendDto,
    on_event: Channel<ChatEventDto>,
) -> Answer<TurnStartedDto> {
    Ok(desktop
        .chat_send(request, Box::new(move |event| on_event.send(event).is_ok()))
        .await?)
}

/// Stops a running turn at once (the upstream request is dropped); the stored answer is cut at the
/// `shown_chars` code points of its text the window had drawn (all that streamed when `None`). Answers
/// `already_finished` when the Stop came too late to change the answer (the window then draws its `done`).
#[tauri::command]
#[specta::specta]
pub fn chat_cancel(
    desktop: State<'_, Desktop>,
    turn: u32,
    shown_chars: Option<u32>,
) -> Answer<ChatCancelDto> {
    Ok(desktop.chat_cancel(turn, shown_chars)?)
}

/// Sends each proactive message stored from now on (the chat's list shows it, marked new).
#[tauri::command]
#[specta::specta]
pub async fn watch_proactive(
    desktop: State<'_, Desktop>,
    on_message: Channel<auren_desktop::ProactiveMessageDto>,
) -> Answer<()> {
    Ok(desktop
        .watch_proactive(Box::new(move |m| on_message.send(m).is_ok()))
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_conversations(desktop: State<'_, Desktop>) -> Answer<Vec<ConversationDto>> {
    Ok(desktop.conversations().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn conversation_messages(
    desktop: State<'_, Desktop>,
    conversation: i64,
    leaf: Option<i64>,
) -> Answer<Vec<MessageDto>> {
    Ok(desktop.conversation_messages(conversation, leaf).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn rename_conversation(
    desktop: State<'_, Desktop>,
    conversation: i64,
    title: String,
) -> Answer<()> {
    Ok(desktop.rename_conversation(conversation, title).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_conversation(desktop: State<'_, Desktop>, conversation: i64) -> Answer<()> {
    Ok(desktop.delete_conversation(conversation).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn export_conversation(
    desktop: State<'_, Desktop>,
    conversation: i64,
    format: ConversationFormatDto,
) -> Answer<String> {
    Ok(desktop.export_conversation(conversation, format).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn search_messages(desktop: State<'_, Desktop>, query: String) -> Answer<Vec<SearchHitDto>> {
    Ok(desktop.search_messages(query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn chat_status(desktop: State<'_, Desktop>) -> Answer<ChatStatusDto> {
    Ok(desktop.chat_status().await?)
}

/// Probes each provider whose last probe is stale (the connection test's one-word request, cached 30 s),
/// then the status with what they said.
#[tauri::command]
#[specta::specta]
pub async fn probe_providers(desktop: State<'_, Desktop>) -> Answer<ChatStatusDto> {
    Ok(desktop.probe_providers().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn memory_panel(
    desktop: State<'_, Desktop>,
    as_of: Option<String>,
) -> Answer<auren_desktop::memory_dto::MemoryPanelDto> {
    Ok(desktop.memory_panel(as_of).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn confirm_memory_proposal(desktop: State<'_, Desktop>, proposal: i64) -> Answer<Option<i64>> {
    Ok(desktop.confirm_memory_proposal(proposal).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn reject_memory_proposal(desktop: State<'_, Desktop>, proposal: i64) -> Answer<()> {
    Ok(desktop.reject_memory_proposal(proposal).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn edit_memory(
    desktop: State<'_, Desktop>,
    edit: auren_desktop::memory_dto::MemoryEditDto,
) -> Answer<i64> {
    Ok(desktop.edit_memory(edit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn retract_memory(desktop: State<'_, Desktop>, id: i64, reason: String) -> Answer<()> {
    Ok(desktop.retract_memory(id, reason).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn forget_memory(
    desktop: State<'_, Desktop>,
    id: i64,
) -> Answer<auren_desktop::memory_dto::ForgottenDto> {
    Ok(desktop.forget_memory(id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn ai_settings(
    desktop: State<'_, Desktop>,
) -> Answer<auren_desktop::ai_settings_dto::AiSettingsDto> {
    Ok(desktop.ai_settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn edit_ai_settings(
    desktop: State<'_, Desktop>,
    edit: auren_desktop::ai_settings_dto::AiEditDto,
) -> Answer<auren_desktop::ai_settings_dto::AiSettingsDto> {
    Ok(desktop.edit_ai_settings(edit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_provider_key(
    desktop: State<'_, Desktop>,
    provider: String,
    key: String,
) -> Answer<auren_desktop::ai_settings_dto::AiSettingsDto> {
    Ok(desktop.set_provider_key(provider, key).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn clear_provider_key(
    desktop: State<'_, Desktop>,
    provider: String,
) -> Answer<auren_desktop::ai_settings_dto::AiSettingsDto> {
    Ok(desktop.clear_provider_key(provider).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn test_provider(
    desktop: State<'_, Desktop>,
    provider: String,
    model: Option<String>,
) -> Answer<auren_desktop::ai_settings_dto::ConnectionTestDto> {
    Ok(desktop.test_provider(provider, model).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn detect_ollama(
    desktop: State<'_, Desktop>,
    url: Option<String>,
) -> Answer<auren_desktop::ai_settings_dto::OllamaDto> {
    Ok(desktop.detect_ollama(url).await?)
}

/// Whether the coach's memory operations apply at once or wait for the person's yes.
#[tauri::command]
#[specta::specta]
pub fn get_memory_apply(desktop: State<'_, Desktop>) -> Answer<auren_desktop::settings::MemoryApplyDto> {
    Ok(desktop.get_memory_apply())
}

/// Sets how the coach's memory operations apply (a person's setting: it syncs).
#[tauri::command]
#[specta::specta]
pub async fn set_memory_apply(
    desktop: State<'_, Desktop>,
    choice: auren_desktop::settings::MemoryApplyDto,
) -> Answer<auren_desktop::settings::MemoryApplyDto> {
    Ok(desktop.set_memory_apply(choice).await?)
}
