# bash completion for evsnn (installed as share/bash-completion/completions/evsnn).
# Commands, subcommands and options are read from evsnn's own --help at completion time,
# so they follow the installed version; file names complete everywhere else.
_evsnn() {
    local cur prev cmd words_help
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local evsnn=${COMP_WORDS[0]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$("$evsnn" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p') --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    case $cmd in
    data)
        if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "info convert show --help" -- "$cur")); return; fi ;;
    hw)
        if [ "$COMP_CWORD" -eq 2 ] && [ "${cur#-}" = "$cur" ]; then COMPREPLY=($(compgen -W "dse" -- "$cur") $(compgen -f -- "$cur")); return; fi ;;
    esac
    if [ "${cur#-}" != "$cur" ]; then
        words_help=$("$evsnn" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$words_help" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -o bashdefault -F _evsnn evsnn
