#!/usr/bin/env bash
# Regenerate the shipped prompts: sounds/{zh,en}/*.wav, 8 kHz mono 16-bit PCM.
# Needs espeak-ng (voices: cmn, en) and sox.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "gen-sounds: espeak-ng missing (scripts/install-deps.sh)" >&2; exit 1; }
command -v sox >/dev/null || { echo "gen-sounds: sox missing (scripts/install-deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak VOICE OUT TEXT: espeak-ng -> 8 kHz mono 16-bit, normalised, 150 ms of silence either side.
speak() {
    local voice=$1 out=$2 text=$3
    espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out" \
        highpass 100 norm -3 pad 0.15 0.15
}

mkdir -p sounds/zh sounds/en

speak cmn sounds/zh/welcome.wav "您好，欢迎致电12345政务服务便民热线，正在为您转接人工服务，请稍候。"
speak cmn sounds/zh/status_available.wav "已示闲。"
speak cmn sounds/zh/status_break.wav "已示忙。"
speak cmn sounds/zh/status_logged_out.wav "已签出。"
speak cmn sounds/zh/invalid_code.wav "您拨打的功能码无效。"
speak cmn sounds/zh/goodbye.wav "感谢您的来电，再见。"

speak en sounds/en/welcome.wav "Welcome to the 12345 citizen service hotline. Connecting you to an agent, please hold."
speak en sounds/en/status_available.wav "You are now available."
speak en sounds/en/status_break.wav "You are on break."
speak en sounds/en/status_logged_out.wav "You are logged out."
speak en sounds/en/invalid_code.wav "That feature code is not valid."
speak en sounds/en/goodbye.wav "Thank you for calling. Goodbye."

# Music on hold: a soft I-vi-IV-V progression (C, Am, F, G), 6 s per chord, 24 s in total.
# Each chord: root, third, fifth (sines) plus a quiet octave-up shimmer, slow tremolo, gentle fades,
# so the loop point (silence-ish) is smooth.
chord() { # out dur f1 f2 f3
    local out=$1 d=$2
    sox -n -r 8000 -c 1 -b 16 "$tmp/a.wav" synth "$d" sine "$3" fade q 0.8 "$d" 1.2
    sox -n -r 8000 -c 1 -b 16 "$tmp/b.wav" synth "$d" sine "$4" fade q 1.2 "$d" 1.2
    sox -n -r 8000 -c 1 -b 16 "$tmp/c.wav" synth "$d" sine "$5" fade q 1.6 "$d" 1.2
    sox -n -r 8000 -c 1 -b 16 "$tmp/d.wav" synth "$d" sine "$(awk "BEGIN{print $3*2}")" fade q 2.0 "$d" 1.5 vol 0.3
    sox -m "$tmp/a.wav" "$tmp/b.wav" "$tmp/c.wav" "$tmp/d.wav" -r 8000 -c 1 -b 16 "$out" tremolo 0.5 20
}
chord "$tmp/c1.wav" 6 261.63 329.63 392.00   # C
chord "$tmp/c2.wav" 6 220.00 261.63 329.63   # Am
chord "$tmp/c3.wav" 6 174.61 220.00 261.63   # F
chord "$tmp/c4.wav" 6 196.00 246.94 293.66   # G
sox "$tmp/c1.wav" "$tmp/c2.wav" "$tmp/c3.wav" "$tmp/c4.wav" -r 8000 -c 1 -b 16 -e signed-integer \
    "$tmp/moh.wav" norm -8 fade t 0.5 0 0.5
cp "$tmp/moh.wav" sounds/zh/moh.wav
cp "$tmp/moh.wav" sounds/en/moh.wav

for f in sounds/zh/*.wav sounds/en/*.wav; do
    printf '%-32s %6.2fs\n' "$f" "$(soxi -D "$f")"
done

# ---------------------------------------------------------------------------------------------
# IVR prompts (crates/hotline-ivr): spoken numbers, queue position, estimated wait, elderly line.
# Names match hotline_ivr::announce. This section only creates files that are missing, so
# re-running never rewrites a committed prompt; delete a file to regenerate it.
# ---------------------------------------------------------------------------------------------
# Unlike speak(), leading/trailing silence is trimmed and the padding kept short: these prompts
# are concatenated ("一万二千…"), and espeak's silences would make a number crawl.
speak_new() { # VOICE OUT TEXT
    [ -e "$2" ] && return 0
    espeak-ng -v "$1" -s 150 -w "$tmp/raw.wav" "$3"
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$2" \
        highpass 100 silence 1 0.02 1% reverse silence 1 0.02 1% reverse norm -3 pad 0.04 0.06
    printf '%-32s %6.2fs (new)\n' "$2" "$(soxi -D "$2")"
}

zh_digits=(零 一 二 三 四 五 六 七 八 九)
for i in "${!zh_digits[@]}"; do
    speak_new cmn "sounds/zh/num-$i.wav" "${zh_digits[$i]}"
done
speak_new cmn sounds/zh/num-10.wav "十"
speak_new cmn sounds/zh/num-hundred.wav "百"
speak_new cmn sounds/zh/num-thousand.wav "千"
speak_new cmn sounds/zh/num-ten-thousand.wav "万"
speak_new cmn sounds/zh/num-hundred-million.wav "亿"
speak_new cmn sounds/zh/queue-position-before.wav "您当前排在第"
speak_new cmn sounds/zh/queue-position-after.wav "位"
speak_new cmn sounds/zh/wait-before.wav "预计等待"
speak_new cmn sounds/zh/wait-minutes.wav "分钟"
speak_new cmn sounds/zh/wait-minute.wav "分钟"
speak_new cmn sounds/zh/wait-less-than-minute.wav "预计等待时间不到一分钟"
speak_new cmn sounds/zh/welcome-elderly.wav "您好，欢迎致电12349养老服务热线。"
speak_new cmn sounds/zh/elderly-menu.wav "老年人服务请按1，其他政务服务请按2，重听请按9。"

en_words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen)
for i in "${!en_words[@]}"; do
    speak_new en "sounds/en/num-$i.wav" "${en_words[$i]}"
done
en_tens=([20]=twenty [30]=thirty [40]=forty [50]=fifty [60]=sixty [70]=seventy [80]=eighty [90]=ninety)
for i in "${!en_tens[@]}"; do
    speak_new en "sounds/en/num-$i.wav" "${en_tens[$i]}"
done
speak_new en sounds/en/num-hundred.wav "hundred"
speak_new en sounds/en/num-thousand.wav "thousand"
speak_new en sounds/en/num-million.wav "million"
speak_new en sounds/en/num-billion.wav "billion"
speak_new en sounds/en/queue-position-before.wav "You are number"
speak_new en sounds/en/queue-position-after.wav "in the queue."
speak_new en sounds/en/wait-before.wav "Your estimated wait is"
speak_new en sounds/en/wait-minutes.wav "minutes."
speak_new en sounds/en/wait-minute.wav "minute."
speak_new en sounds/en/wait-less-than-minute.wav "Your estimated wait is less than one minute."
speak_new en sounds/en/welcome-elderly.wav "Welcome to the 12349 elderly care hotline."
speak_new en sounds/en/elderly-menu.wav \
    "For elderly care services, press 1. For other citizen services, press 2. To hear these options again, press 9."
