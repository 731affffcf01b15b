# bash completion for oai, from `oai completion show bash`; do not edit.
# The candidates come from oai itself on every TAB, so they follow the
# installed version: commands, flags, enum values and profile names.

_oai_completion() {
    local word=${COMP_WORDS[COMP_CWORD]} line
    # After `--order=` bash's current word is the `=` itself, but readline replaces
    # only what follows it.
    [[ -n $word && -z ${word//[$COMP_WORDBREAKS]/} ]] && word=
    COMPREPLY=()
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <(
        _OAI_COMPLETE=complete_bash \
        _OAI_COMPLETE_LINE="${COMP_LINE:0:COMP_POINT}" \
        _OAI_COMPLETE_WORD="$word" \
        "$1" </dev/null 2>/dev/null
    )
    return 0
}

complete -o default -F _oai_completion oai
