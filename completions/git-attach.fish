# fish completion for git-attach.
#
# Completes `git-attach <TAB>`, and `git attach <TAB>` too: fish's own git completion hands the
# words of any git-* command on PATH to that command's completion. Install as
# ~/.config/fish/completions/git-attach.fish. The options are the flag table of src/cli.rs;
# tests/docs.rs fails when they drift apart.

# Session ids of this repository, from `git attach --list --json` (one JSON object per line with
# a "session_id" key); nothing when listing fails.
function __git_attach_sessions
    command git-attach --list --json 2>/dev/null </dev/null | string replace -rf '.*"session_id"\s*:\s*"([^"]*)".*' '$1'
end

function __git_attach_remotes
    command git remote 2>/dev/null
end

set -l agents claude-code codex copilot-cli cursor factoryai-droid gemini opencode pi

complete -c git-attach -f
complete -c git-attach -n 'not string match -q -- "-*" (commandline -ct); and not __fish_prev_arg_in --push' -a '(__git_attach_sessions)' -d 'session id'
complete -c git-attach -s a -l agent -x -a "$agents" -d 'the agent that made the session'
complete -c git-attach -s t -l transcript -r -F -d 'attach this transcript file'
complete -c git-attach -s f -l force -d 'amend HEAD without asking'
complete -c git-attach -l no-amend -d 'never amend; print the trailer line'
complete -c git-attach -s n -l dry-run -d 'report what would be written'
complete -c git-attach -l v2 -d 'mirror into the v2 refs for this run'
complete -c git-attach -l no-v2 -d 'do not mirror into the v2 refs'
complete -c git-attach -l remote -x -a '(__git_attach_remotes)' -d 'remote for missing checkpoints'
complete -c git-attach -s l -l list -d 'list this repository\'s sessions, newest first'
complete -c git-attach -l backfill -d 'mirror every v1 checkpoint that v2 lacks into v2'
complete -c git-attach -l push -d 'push the checkpoint refs to a remote'
complete -c git-attach -n '__fish_prev_arg_in --push' -x -a '(__git_attach_remotes)' -d remote
complete -c git-attach -l json -d 'machine-readable output'
complete -c git-attach -l show-settings -d 'print the effective settings'
complete -c git-attach -s v -l verbose -d 'log more (repeat for more)'
complete -c git-attach -s q -l quiet -d 'log only errors'
complete -c git-attach -s h -l help -d 'print help'
complete -c git-attach -s V -l version -d 'print the version'
