# bash completion for git-attach                                  -*- shell-script -*-
#
# Completes `git attach <TAB>` (git's own completion calls _git_attach) and `git-attach <TAB>`.
# Install as ~/.local/share/bash-completion/completions/git-attach, or source it from ~/.bashrc.
# The flags below are the flag table of src/cli.rs; tests/docs.rs fails when they drift apart.

# Flags that take no value, and flags that take one (see __git_attach_value_kind; the value of
# --push is optional and goes in the next word).
__git_attach_flags_plain="--force --no-amend --dry-run --v2 --no-v2 --list --backfill --json --show-settings --verbose --quiet --help --version"
__git_attach_flags_value="--agent --transcript --remote --push"
__git_attach_agents="claude-code codex copilot-cli cursor factoryai-droid gemini opencode pi"

# What the value of a flag completes to: agent, file, remote, or nothing.
__git_attach_value_kind ()
{
	case "$1" in
	-a|--agent) echo agent ;;
	-t|--transcript) echo file ;;
	--remote) echo remote ;;
	--push) echo remote ;;
	esac
}

# Session ids of this repository, from `git attach --list --json` (one JSON object per line with
# a "session_id" key). Prints nothing when listing fails (no repository, an older git-attach).
__git_attach_session_ids ()
{
	command git-attach --list --json 2>/dev/null </dev/null |
		command sed -n 's/.*"session_id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
}

# Candidates for the word "$1" that follows the word "$2", one per line.
__git_attach_candidates ()
{
	local cur="$1" kind
	kind=$(__git_attach_value_kind "$2")
	case "$kind" in
	agent) compgen -W "$__git_attach_agents" -- "$cur" ;;
	remote) compgen -W "$(command git remote 2>/dev/null)" -- "$cur" ;;
	file) compgen -f -- "$cur" ;;
	*)
		case "$cur" in
		-*) compgen -W "$__git_attach_flags_plain $__git_attach_flags_value" -- "$cur" ;;
		*) compgen -W "$(__git_attach_session_ids)" -- "$cur" ;;
		esac
		;;
	esac
}

# Sets COMPREPLY for the word "$1" after the word "$2"; "$3" is appended to every complete word
# (a space when the completion was registered with -o nospace, as git's is).
__git_attach_complete ()
{
	local cur="$1" prev="$2" sfx="$3" prefix="" w
	COMPREPLY=()
	case "$cur" in
	--*=*)
		# --agent=co: complete the value. When "=" breaks words (the default), bash replaces
		# only the part after it; otherwise the flag is part of the word.
		case "${COMP_WORDBREAKS-=}" in
		*=*) ;;
		*) prefix="${cur%%=*}=" ;;
		esac
		prev="${cur%%=*}"
		cur="${cur#*=}"
		;;
	esac
	if [ "$(__git_attach_value_kind "$prev")" = file ]; then
		compopt -o filenames 2>/dev/null
		sfx=""
	fi
	while IFS= read -r w; do
		[ -n "$w" ] && COMPREPLY+=("$prefix$w$sfx")
	done < <(__git_attach_candidates "$cur" "$prev")
	return 0
}

# Called by git's completion for `git attach ...`, which has set cur and prev (local to its
# caller) and registered itself with -o nospace.
_git_attach ()
{
	if [ -n "${cur+set}" ]; then
		__git_attach_complete "$cur" "${prev-}" " "
	else
		__git_attach_complete "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" " "
	fi
}

# `git-attach ...` typed directly.
_git_attach_command ()
{
	local cur prev words cword
	if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
		_get_comp_words_by_ref -n =: cur prev words cword
	else
		cur="${COMP_WORDS[COMP_CWORD]}"
		prev="${COMP_WORDS[COMP_CWORD-1]}"
		# Without bash-completion, `--agent=co` arrives as `--agent` `=` `co`.
		if [ "$cur" = "=" ]; then
			cur=""
		elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -ge 2 ]; then
			prev="${COMP_WORDS[COMP_CWORD-2]}"
		fi
	fi
	__git_attach_complete "$cur" "$prev" ""
}

complete -o bashdefault -o default -F _git_attach_command git-attach
